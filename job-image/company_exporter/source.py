"""One space's companies as NDJSON, read from one REPEATABLE READ READ ONLY snapshot.

PostgreSQL builds each line's JSON (`export_database.company_json`) and streams the lines with
COPY TO STDOUT in (created_at, id) order along the (space_id, created_at, id) index. Python only
joins lines into batches: it never parses a row, which is what keeps one Python core ahead of
the backend (see benchmarks/exporter.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from company_exporter.errors import BadRequestError, RetriableError
from export_contracts.exporter import ExporterParameters
from export_database.company_json import COMPANY_JSON

_COPY_LINES = sql.SQL(
    "COPY (SELECT {company_json} FROM companies c"
    " WHERE c.space_id = %(space_id)s"
    " AND c.created_at >= %(start)s AND c.created_at < %(end)s"
    " ORDER BY c.created_at, c.id) TO STDOUT"
).format(company_json=sql.SQL(COMPANY_JSON))  # a constant of ours, never user input

# Batches of about 1 MiB: large enough that per-batch costs (join, unescape, compress call)
# vanish, small enough to keep memory flat.
BATCH_BYTES = 1024 * 1024

# Substrings of libpq's messages that mean "the server refused who we are".
_CREDENTIAL_FAILURES = ("password authentication failed", "no password supplied", "role ")


@dataclass(frozen=True)
class Batch:
    """Whole NDJSON lines (each ends with a newline) and how many there are."""

    lines: bytes
    records: int


def _where(database_url: str) -> str:
    """host:port/db of the URL, for messages; never the password."""
    parts = conninfo_to_dict(database_url)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _connect_failure(error: psycopg.OperationalError, database_url: str) -> RetriableError:
    said = " ".join(str(error).split()) or type(error).__name__  # libpq's lines, as one line
    user = conninfo_to_dict(database_url).get("user", "(default user)")
    if any(marker in str(error) for marker in _CREDENTIAL_FAILURES):
        return RetriableError(
            f"PostgreSQL at {_where(database_url)} rejected the credentials of user {user} in "
            f"DATABASE_URL ({said}): fix the database secret"
        )
    return RetriableError(
        f"cannot connect to PostgreSQL at {_where(database_url)} ({said}): "
        "check that it is up and reachable; the Job retries"
    )


@contextmanager
def snapshot(database_url: str, export_id: int) -> Iterator[psycopg.Connection]:
    """A connection inside one REPEATABLE READ READ ONLY transaction, rolled back at the end."""
    try:
        conn = psycopg.connect(
            database_url, connect_timeout=15, application_name=f"company-exporter/{export_id}"
        )
    except psycopg.OperationalError as error:
        raise _connect_failure(error, database_url) from None
    with conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        try:
            with conn.transaction(force_rollback=True):
                yield conn
        except psycopg.Error as error:
            raise RetriableError(
                f"PostgreSQL at {_where(database_url)} failed during the export: {error}; "
                "the Job retries"
            ) from error


def _unescape(copy_text: bytes) -> bytes:
    # COPY's text format doubles each backslash. JSON text holds no raw control character, so a
    # doubled backslash is the only escape COPY writes into our lines, and this undoes it exactly.
    return copy_text.replace(b"\\\\", b"\\")


def require_space(conn: psycopg.Connection, space_id: int) -> None:
    """Raises BadRequestError unless the space exists in the snapshot."""
    if conn.execute("SELECT 1 FROM spaces WHERE id = %s", (space_id,)).fetchone() is None:
        raise BadRequestError(f"space {space_id} does not exist: export a space that exists")


def ndjson_batches(conn: psycopg.Connection, parameters: ExporterParameters) -> Iterator[Batch]:
    """The space's companies with parameters.range_start <= created_at < range_end, in order."""
    bounds = {
        "space_id": parameters.space_id,
        "start": parameters.range_start,
        "end": parameters.range_end,
    }
    with conn.cursor() as cursor, cursor.copy(_COPY_LINES, bounds) as copy:
        lines: list[bytes | bytearray | memoryview] = []
        size = 0
        for line in copy:
            lines.append(line)
            size += len(line)
            if size >= BATCH_BYTES:
                yield Batch(_unescape(b"".join(lines)), len(lines))
                lines.clear()
                size = 0
        if lines:
            yield Batch(_unescape(b"".join(lines)), len(lines))
