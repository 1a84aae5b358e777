"""The two ways an export fails, each carrying the exit code the Job's failure policy acts on,
and the messages for PostgreSQL's failures (what went wrong, where, and what to do)."""

from typing import Any

from export_contracts.exporter import ExitCode


class ExportError(Exception):
    """A failure with a message that says what went wrong and what to do; no traceback needed."""

    exit_code: ExitCode = ExitCode.RETRIABLE


class BadRequestError(ExportError):
    """The request or the container's configuration can never work; retrying cannot help."""

    exit_code = ExitCode.BAD_REQUEST


class RetriableError(ExportError):
    """PostgreSQL or S3 failed or refused us; a later run (after a fix of a secret) may succeed."""

    exit_code = ExitCode.RETRIABLE


class CancelledExportError(ExportError):
    """SIGTERM: the Job was deleted or ran past its deadline."""

    exit_code = ExitCode.RETRIABLE


# Substrings of libpq's messages that mean "the server refused who we are".
_CREDENTIAL_FAILURES = ("password authentication failed", "no password supplied", "role ")


def _parts(database_url: str) -> dict[str, Any]:
    """libpq's reading of the URL (a URI or key=value). psycopg is imported only here, when a
    message needs it: its import would cost every export's start-up ~0.1 s."""
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(database_url)


def _where(database_url: str) -> str:
    """host:port/db of the URL, for messages; never the password."""
    parts = _parts(database_url)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _one_line(said: object) -> str:
    return " ".join(str(said).split()) or type(said).__name__  # libpq's lines, as one line


def connect_failure(said: object, database_url: str) -> RetriableError:
    """The error for PostgreSQL refusing or not answering a connection."""
    user = _parts(database_url).get("user", "(default user)")
    if any(marker in str(said) for marker in _CREDENTIAL_FAILURES):
        return RetriableError(
            f"PostgreSQL at {_where(database_url)} rejected the credentials of user {user} in "
            f"DATABASE_URL ({_one_line(said)}): fix the database secret"
        )
    return RetriableError(
        f"cannot connect to PostgreSQL at {_where(database_url)} ({_one_line(said)}): "
        "check that it is up and reachable; the Job retries"
    )


def export_failure(database_url: str, said: object) -> RetriableError:
    """The error for PostgreSQL failing once the export runs (a lost backend, a cancel)."""
    return RetriableError(
        f"PostgreSQL at {_where(database_url)} failed during the export: {_one_line(said)}; "
        "the Job retries"
    )
