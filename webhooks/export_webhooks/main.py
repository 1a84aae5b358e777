"""`export-webhooks`: the dispatcher, configured from the environment; stops on SIGTERM."""

import argparse
import asyncio
import logging
import signal

from prometheus_client import start_http_server
from psycopg_pool import AsyncConnectionPool

from export_contracts.logs import configure_logging
from export_webhooks.dispatcher import Dispatcher
from export_webhooks.settings import DispatcherSettings

log = logging.getLogger(__name__)


async def serve(settings: DispatcherSettings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    pool = AsyncConnectionPool(
        str(settings.database_url),
        min_size=1,
        max_size=4,
        kwargs={"autocommit": True, "connect_timeout": 5},
        open=False,
    )
    await pool.open()
    try:
        log.info(
            "dispatching webhooks",
            extra={
                "concurrency": settings.webhook_concurrency,
                "allowed_networks": [str(n) for n in settings.webhook_allowed_networks],
            },
        )
        await Dispatcher(settings, pool).run(stopping)
    finally:
        await pool.close()
    log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="export-webhooks",
        description="Send the webhook deliveries the API queues (settings from the environment).",
    )
    parser.parse_args(argv)
    settings = DispatcherSettings()  # required values come from the environment
    configure_logging(settings.log_level)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
