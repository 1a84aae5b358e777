"""SQL text for the exporter's values, which are never user text: integers, aware instants, and
column names from our own constants. The exporter composes its queries with these rather than
psycopg's `sql` module because importing psycopg costs each export Pod ~0.1 s of start-up, and
its queries go through ADBC, which takes no psycopg objects."""

import re
from datetime import datetime

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def identifier(name: str) -> str:
    """A column name of ours, quoted; refuses anything but a plain lowercase name."""
    if not _PLAIN_NAME.fullmatch(name):
        raise ValueError(f"not a plain column name: {name!r}")
    return f'"{name}"'


def instant(value: datetime) -> str:
    """An aware datetime as a timestamptz literal (ISO 8601 text holds no quote)."""
    if value.tzinfo is None:
        raise ValueError(f"a naive datetime is ambiguous as an instant: {value!r}")
    return f"'{value.isoformat()}'::timestamptz"


def integer(value: int) -> str:
    return str(int(value))
