"""`company-exporter`: runs one export and reports how it ended.

Success: the ExporterResult as JSON on stdout and in the termination message file, exit 0 (a
shard of a sharded export reports its ShardReport instead; its coordinator, the ExporterResult).
Failure: a log line and an ExporterFailure in the termination message file saying what went
wrong and what to do, exit 64 (bad request: never retry) or 75 (retriable).
"""

import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from pydantic import BaseModel, ValidationError

from company_exporter.allocator import keep_large_buffers_mapped
from company_exporter.errors import BadRequestError, CancelledExportError, ExportError
from company_exporter.export import run_export
from company_exporter.request import parse_parameters
from company_exporter.settings import ExporterSettings
from company_exporter.sharding import run_coordinator, run_shard
from export_contracts.exporter import (
    COMPLETION_INDEX_ENV,
    ExitCode,
    ExporterFailure,
    ExporterParameters,
)
from export_contracts.logs import configure_logging

log = logging.getLogger("company_exporter")

_DEFAULT_TERMINATION_PATH = Path("/dev/termination-log")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raised in the main thread wherever it is, so the upload's abort and the rollback run.
    raise CancelledExportError("stopped by SIGTERM (the Job was deleted or ran past its deadline)")


def _settings() -> ExporterSettings:
    try:
        return ExporterSettings.from_environment(os.environ)
    except ValidationError as error:
        names = ", ".join(str(detail["loc"][0]).upper() for detail in error.errors())
        first = error.errors()[0]["msg"]
        raise BadRequestError(f"bad exporter environment: fix {names} ({first})") from None


def _report(model: BaseModel, path: Path) -> None:
    try:
        path.write_text(model.model_dump_json())
    except OSError as error:
        log.warning(
            "cannot write the termination message", extra={"path": str(path), "error": str(error)}
        )


def _run(parameters: ExporterParameters, settings: ExporterSettings) -> BaseModel:
    """This Pod's part of the export: all of it, or a sharded export's coordinator or a shard."""
    if parameters.shards == 1:
        return run_export(parameters, settings)
    if parameters.completion_index is None:
        raise BadRequestError(
            f"a sharded export (EXPORT_SHARDS {parameters.shards}) runs as an Indexed Job: "
            f"set {COMPLETION_INDEX_ENV} (0 coordinates, 1..{parameters.shards} read)"
        )
    if parameters.completion_index == 0:
        return run_coordinator(parameters, settings)
    return run_shard(parameters, settings)


def _export(argv: Sequence[str]) -> tuple[ExitCode, BaseModel, Path]:
    termination_path = Path(os.environ.get("TERMINATION_MESSAGE_PATH", _DEFAULT_TERMINATION_PATH))
    export_id = None
    try:
        parameters = parse_parameters(argv, os.environ)
        export_id = parameters.export_id
        settings = _settings()
        termination_path = settings.termination_message_path
        configure_logging(settings.log_level)
        return ExitCode.SUCCESS, _run(parameters, settings), termination_path
    except ExportError as error:
        log.error(str(error), extra={"export_id": export_id, "exit_code": int(error.exit_code)})
        code, message = error.exit_code, str(error)
    except Exception as error:  # a bug must still end with a message and a code
        log.exception("unexpected failure", extra={"export_id": export_id})
        code, message = ExitCode.RETRIABLE, f"unexpected {type(error).__name__}: {error}"
    failure = ExporterFailure(error=message, exit_code=int(code), export_id=export_id)
    return code, failure, termination_path


def main(argv: Sequence[str] | None = None) -> NoReturn:
    keep_large_buffers_mapped()
    configure_logging()
    signal.signal(signal.SIGTERM, _on_sigterm)
    code, report, termination_path = _export(sys.argv[1:] if argv is None else argv)
    _report(report, termination_path)
    if code == ExitCode.SUCCESS:
        sys.stdout.write(report.model_dump_json() + "\n")
    # Everything that needed an end has ended (threads joined, connections closed, the upload
    # completed or aborted); Python's own teardown, freeing botocore's models and every module,
    # would take another ~0.15 s. Flush what was written and leave.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
