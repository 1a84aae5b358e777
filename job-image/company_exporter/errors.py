"""The two ways an export fails, each carrying the exit code the Job's failure policy acts on."""

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
