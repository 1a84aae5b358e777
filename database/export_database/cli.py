"""`export-db`: apply migrations, create a space, fill it with generated companies.

Reads DATABASE_URL from the environment. Results go to stdout as one JSON object; logs to stderr.
"""

import argparse
import json
import sys
import time
from collections.abc import Sequence

import psycopg
from pydantic import ValidationError

from export_contracts.logs import configure_logging
from export_database.generate import create_space, generate_companies
from export_database.migrate import migrate
from export_database.settings import DatabaseSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="export-db", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the schema migrations that are missing")
    space = commands.add_parser("create-space", help="create a space and print its id")
    space.add_argument("--name", required=True)
    space.add_argument("--timezone", default="UTC", help="IANA name, e.g. Europe/Berlin")
    space.add_argument("--inactive", action="store_true", help="subscription inactive")
    generate = commands.add_parser("generate", help="add generated companies to a space")
    generate.add_argument("--space-id", type=int, required=True)
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--seed", type=int, default=None, help="same seed, same rows")
    return parser


def _run(arguments: argparse.Namespace, database_url: str) -> dict[str, object]:
    if arguments.command == "migrate":
        return {"applied": migrate(database_url)}
    with psycopg.connect(database_url) as conn:
        if arguments.command == "create-space":
            space_id = create_space(
                conn, arguments.name, arguments.timezone, active=not arguments.inactive
            )
            return {"space_id": space_id}
        started = time.monotonic()
        count = generate_companies(conn, arguments.space_id, arguments.count, seed=arguments.seed)
        return {"space_id": arguments.space_id, "companies": count,
                "seconds": round(time.monotonic() - started, 3)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    configure_logging()
    try:
        database_url = DatabaseSettings().database_url.get_secret_value()
    except ValidationError:
        sys.stderr.write("export-db: set DATABASE_URL to a libpq URL (postgresql://...)\n")
        return 64
    try:
        result = _run(arguments, database_url)
    except psycopg.Error as error:
        sys.stderr.write(f"export-db {arguments.command} failed: {error}\n")
        return 75
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
