"""One space's companies as NDJSON, read from one REPEATABLE READ READ ONLY snapshot.

PostgreSQL builds each line's JSON (`export_database.company_json`) and streams the lines with
COPY TO STDOUT in (created_at, id) order along the (space_id, created_at, id) index. Python only
strips each row's 6-byte frame and joins lines into batches: it never parses a row, which keeps
one Python core well ahead of the backend (see benchmarks/exporter.py).

COPY's binary format, not text: text doubles every backslash (PostgreSQL scans every byte to do
it, and we would scan again to undo it); binary hands over the json value's bytes as they are.
Measured on 1M rows: 0.5 s less backend CPU and 1.5 s less CPU here.
"""

import itertools
import struct
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.conninfo import conninfo_to_dict

from company_exporter.errors import BadRequestError, RetriableError
from export_contracts.exporter import ExporterParameters
from export_database.company_json import COMPANY_JSON

_COPY_LINES = sql.SQL(
    "COPY (SELECT {company_json} FROM companies c"
    " WHERE c.space_id = %(space_id)s"
    " AND c.created_at >= %(start)s AND c.created_at < %(end)s"
    " ORDER BY c.created_at, c.id) TO STDOUT (FORMAT binary)"
).format(company_json=sql.SQL(COMPANY_JSON))  # a constant of ours, never user input

# The binary COPY stream: a header before the first row, then per row a field count (int16, 1
# here) and the value's length (int32), and -1 as a field count at the end. PostgreSQL sends
# each row in a message of its own (the header rides with the first), which is what we rely on.
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = struct.Struct(">11sii")  # signature, flags, header extension length (0)
_ROW = struct.Struct(">hi")
_TRAILER = b"\xff\xff"

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


def _without_header(message: Buffer) -> Buffer:
    signature, _, extension = _HEADER.unpack_from(message)
    if signature != _SIGNATURE or extension != 0:
        raise RetriableError("PostgreSQL sent an unknown COPY header; is it PostgreSQL >= 9?")
    return memoryview(message)[_HEADER.size :]


def _json_of(message: Buffer) -> Buffer:
    fields, length = _ROW.unpack_from(message)
    if fields != 1 or length != len(message) - _ROW.size:
        raise RetriableError(f"unexpected COPY row frame ({fields} fields, {length} bytes)")
    return memoryview(message)[_ROW.size :]


def require_space(conn: psycopg.Connection, space_id: int) -> None:
    """Raises BadRequestError unless the space exists in the snapshot."""
    if conn.execute("SELECT 1 FROM spaces WHERE id = %s", (space_id,)).fetchone() is None:
        raise BadRequestError(f"space {space_id} does not exist: export a space that exists")


def ndjson_batches(
    conn: psycopg.Connection, parameters: ExporterParameters
) -> Generator[Batch, None, None]:
    """The space's companies with parameters.range_start <= created_at < range_end, in order."""
    bounds = {
        "space_id": parameters.space_id,
        "start": parameters.range_start,
        "end": parameters.range_end,
    }
    with conn.cursor() as cursor, cursor.copy(_COPY_LINES, bounds) as copy:
        messages = iter(copy)
        first = _without_header(next(messages))  # there is always one: header and trailer
        lines: list[Buffer] = []
        size = 0
        for message in itertools.chain([first], messages):
            if len(message) == len(_TRAILER):  # the end (a row has 6 bytes of frame at least)
                continue  # psycopg must still read the end of the COPY
            lines.append(_json_of(message))
            size += len(message)
            if size >= BATCH_BYTES:
                yield _batch(lines)
                lines.clear()
                size = 0
        if lines:
            yield _batch(lines)


def _batch(values: list[Buffer]) -> Batch:
    # JSON text never holds a raw newline, so newline-joined values are NDJSON lines.
    values.append(b"")
    lines = b"\n".join(values)
    values.pop()
    return Batch(lines, len(values))
