"""`export-api`: serves the API with uvicorn, configured from the environment."""

import argparse

import uvicorn

from export_api.app import create_app
from export_api.protocol import BoundedHttpToolsProtocol
from export_api.settings import ApiSettings
from export_contracts.logs import configure_logging


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
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,  # keep our JSON log lines
        access_log=False,  # metrics count requests; a line per status poll would drown the logs
        proxy_headers=True,
        http=BoundedHttpToolsProtocol,  # httptools, with a bound on request heads
    )


if __name__ == "__main__":
    main()
