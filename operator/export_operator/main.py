"""`export-operator`: runs the operator's kopf handlers with settings from the environment."""

import kopf

from export_contracts.logs import configure_logging
from export_operator import handlers  # noqa: F401 (registers the handlers with kopf)
from export_operator.settings import OperatorSettings


def main() -> None:
    settings = OperatorSettings()
    configure_logging(settings.log_level)
    # Peering is configured in the startup handler, with the rest of kopf's settings.
    kopf.run(
        liveness_endpoint=settings.liveness_endpoint,
        clusterwide=settings.namespace is None,
        namespaces=[settings.namespace] if settings.namespace else (),
    )
