"""`export-operator`: runs the operator's kopf handlers with settings from the environment."""

import argparse
import logging

import kopf

from export_contracts.logs import configure_logging
from export_operator import handlers  # noqa: F401 (registers the handlers with kopf)
from export_operator.settings import OperatorSettings


class WithoutKopfSettings(logging.Filter):
    """Drops the `settings` kopf attaches to every record of an object's logger.

    The JSON log writes every extra attribute; kopf's whole OperatorSettings repr (1.5 kB) on each
    line would bury the message. kopf's own Event poster has read the record by the time the root
    handler's filters run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("settings", None)
        return True


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="export-operator",
        description="Run the CompanyExport operator (settings from the environment, "
        "EXPORT_OPERATOR_*; operator/README.md lists them). Outside a cluster it connects "
        "through KUBECONFIG, inside through its service account.",
    ).parse_args(argv)
    settings = OperatorSettings()
    configure_logging(settings.log_level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(WithoutKopfSettings())
    if logging.getLogger().level > logging.DEBUG:
        # "Handler 'x' succeeded" for every event of every export and Job drowns the log; the
        # operator logs each state change itself, and kopf's warnings and errors still show.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    # Peering is configured in the startup handler, with the rest of kopf's settings.
    kopf.run(
        liveness_endpoint=settings.liveness_endpoint,
        clusterwide=settings.namespace is None,
        namespaces=[settings.namespace] if settings.namespace else (),
    )
