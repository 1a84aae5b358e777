"""`export-api-admin`: create spaces, issue and revoke API keys (for operators and `make up`).

A new key is printed once, on stdout; only its hash is stored, so it cannot be shown again.
"""

import argparse
import sys
from collections.abc import Sequence
from zoneinfo import available_timezones

import psycopg
from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

from export_api.auth import Scope
from export_api.keys import generate_key
from export_database import generate


class AdminSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: PostgresDsn


def create_space(conn: psycopg.Connection, name: str, timezone: str, active: bool = True) -> int:
    """Creates a space; the timezone must be an IANA name ("Europe/Berlin")."""
    if timezone not in available_timezones():
        raise ValueError(f"{timezone!r} is not an IANA timezone name, e.g. Europe/Berlin or UTC")
    return generate.create_space(conn, name, timezone, active=active)


def issue_key(
    conn: psycopg.Connection, space_id: int, scopes: Sequence[Scope], name: str | None = None
) -> tuple[int, str]:
    """Stores a new key's hash; returns its id and the key itself (to be shown once)."""
    key = generate_key()
    row = conn.execute(
        "INSERT INTO api_keys (space_id, prefix, key_hash, name, scopes) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (space_id, key.prefix, key.secret_hash, name, [scope.value for scope in scopes]),
    ).fetchone()
    assert row is not None
    key_id: int = row[0]
    return key_id, key.token


def revoke_key(
    conn: psycopg.Connection, key_id: int | None = None, prefix: str | None = None
) -> bool:
    """Revokes a key at once, by id or by its public prefix; False when no active key matches."""
    cursor = conn.execute(
        "UPDATE api_keys SET revoked_at = now() "
        "WHERE (id = %s OR prefix = %s) AND revoked_at IS NULL",
        (key_id, prefix),
    )
    return cursor.rowcount == 1


def set_subscription(conn: psycopg.Connection, space_id: int, active: bool) -> bool:
    cursor = conn.execute(
        "UPDATE spaces SET subscription_status = %s WHERE id = %s",
        ("active" if active else "inactive", space_id),
    )
    return cursor.rowcount == 1


def _scopes(text: str) -> list[Scope]:
    try:
        return [Scope(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        choices = ", ".join(scope.value for scope in Scope)
        raise argparse.ArgumentTypeError(
            f"scopes are a comma-separated list of: {choices}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="export-api-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    space = commands.add_parser("create-space", help="create a space; prints its id")
    space.add_argument("--name", required=True)
    space.add_argument("--timezone", required=True, help="IANA name, e.g. Europe/Berlin")
    key = commands.add_parser("issue-key", help="issue an API key; prints it once")
    key.add_argument("--space-id", type=int, required=True)
    key.add_argument(
        "--scopes", type=_scopes, default=list(Scope), help="exports:read,exports:write"
    )
    key.add_argument("--name", help="what the key is for")
    revoke = commands.add_parser("revoke-key", help="revoke an API key by its id or prefix")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--key-id", type=int)
    which.add_argument("--prefix", help="the 8 characters after cexp_ in the key")
    for command, help_text in (("activate", "activate"), ("deactivate", "deactivate")):
        sub = commands.add_parser(
            f"{command}-subscription", help=f"{help_text} a space's subscription"
        )
        sub.add_argument("--space-id", type=int, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = AdminSettings()  # DATABASE_URL comes from the environment
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        return _run(conn, args)


def _run(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.command == "create-space":
        try:
            out.write(f"{create_space(conn, args.name, args.timezone)}\n")
        except ValueError as error:
            sys.stderr.write(f"export-api-admin: {error}\n")
            return 2
        return 0
    if args.command == "issue-key":
        key_id, token = issue_key(conn, args.space_id, args.scopes, args.name)
        sys.stderr.write(f"key id {key_id}; the key is shown only now, store it safely:\n")
        out.write(f"{token}\n")
        return 0
    if args.command == "revoke-key":
        if revoke_key(conn, args.key_id, args.prefix):
            return 0
        return _fail("no active key with that id or prefix; list keys in the api_keys table")
    active = args.command == "activate-subscription"
    return (
        0 if set_subscription(conn, args.space_id, active) else _fail(f"no space {args.space_id}")
    )


def _fail(message: str) -> int:
    sys.stderr.write(f"export-api-admin: {message}\n")
    return 1
