"""What to export, from command-line options or, for each one not given, the environment.

The operator sets environment variables (names in `PARAMETER_ENV`); options are for people running
the exporter by hand. Anything missing or malformed is a `BadRequestError` naming the variable.
"""

import argparse
from collections.abc import Mapping, Sequence
from typing import NoReturn

from pydantic import ValidationError

from company_exporter.errors import BadRequestError
from export_contracts.exporter import COMPLETION_INDEX_ENV, PARAMETER_ENV, ExporterParameters

# The operator's parameters, and the Pod's index that Kubernetes sets on an Indexed Job's Pods.
_ENV = {**PARAMETER_ENV, "completion_index": COMPLETION_INDEX_ENV}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would exit 2; the Job's failure policy knows 64 as "never retry".
        raise BadRequestError(f"bad command line: {message}; see company-exporter --help")


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="company-exporter",
        description="Export one space's companies created in [start, end) to gzipped NDJSON in S3.",
    )
    for field, env in _ENV.items():
        parser.add_argument(_option(field), dest=field, metavar=env, help=f"default: ${env}")
    return parser


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else ""
        if field in _ENV:
            problems.append(f"{_ENV[field]} ({_option(field)}): {detail['msg']}")
        else:
            problems.append(detail["msg"].removeprefix("Value error, "))
    return "bad export parameters: " + "; ".join(problems)


def parse_parameters(argv: Sequence[str], environ: Mapping[str, str]) -> ExporterParameters:
    """The parameters of this run; raises BadRequestError with every problem found at once."""
    options = vars(_parser().parse_args(argv))
    values = {field: environ[env] for field, env in _ENV.items() if env in environ}
    values.update({field: value for field, value in options.items() if value is not None})
    try:
        return ExporterParameters.model_validate(values)
    except ValidationError as error:
        raise BadRequestError(_describe(error)) from None
