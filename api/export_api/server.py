"""`export-api`: serves the API with uvicorn, configured from the environment."""

import argparse

import uvicorn
from starlette.types import ASGIApp

from export_api.app import create_app
from export_api.protocol import HeadLimits, RequestLimits
from export_api.settings import ApiSettings
from export_contracts.logs import configure_logging

# Seconds an idle connection stays open between requests (uvicorn's default, said once here).
KEEP_ALIVE_SECONDS = 5


def server_config(
    app: ASGIApp, host: str, port: int, limits: RequestLimits | None = None
) -> uvicorn.Config:
    """How the API is served: uvicorn's httptools protocol behind the head limits, JSON logs."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # keep our JSON log lines
        access_log=False,  # metrics count requests; a line per status poll would drown the logs
        proxy_headers=True,
        http=HeadLimits.with_limits(limits) if limits else HeadLimits,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="export-api",
        description="Serve the Company Exports API (settings from the environment).",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")  # noqa: S104
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = ApiSettings()  # required values come from the environment
    configure_logging(settings.log_level)
    uvicorn.Server(server_config(create_app(settings), args.host, args.port)).run()


if __name__ == "__main__":
    main()
