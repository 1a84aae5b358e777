"""`python -m local_cluster.node_agent --kubeconfig K --node-name N --work-dir D`, until SIGTERM."""

import logging
import signal
import sys
import threading
from types import FrameType

from pydantic import ValidationError

from export_contracts.logs import configure_logging
from local_cluster.node_agent.agent import NodeAgent
from local_cluster.node_agent.settings import AgentSettings

log = logging.getLogger("local_cluster.node_agent")


def main(argv: list[str] | None = None) -> None:
    try:
        settings = AgentSettings(_cli_parse_args=sys.argv[1:] if argv is None else argv)
    except ValidationError as error:
        missing = ", ".join("--" + str(e["loc"][0]).replace("_", "-") for e in error.errors())
        sys.exit(f"node agent: missing or invalid {missing}; see --help")
    configure_logging(settings.log_level)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    NodeAgent(settings).run(stop)


if __name__ == "__main__":
    main()
