"""Applies the numbered SQL files in migrations/ in order, each once, each in its own transaction.

Several replicas (API, `make up`, tests) may start at once: an advisory lock serialises them, and
`schema_migrations` records what has been applied, so running the command twice is harmless.
"""

import logging
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

# Any constant shared by every runner: "exportdb" in ASCII, a positive bigint.
_ADVISORY_LOCK_KEY = int.from_bytes(b"exportdb", "big")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str  # the file name without .sql, e.g. "001_core"
    sql: str


def available_migrations() -> list[Migration]:
    """Every migrations/NNN_name.sql in this package, ordered by its number."""
    folder = resources.files("export_database") / "migrations"
    files = [item for item in folder.iterdir() if item.name.endswith(".sql")]
    files.sort(key=lambda item: int(item.name.split("_", 1)[0]))
    return [Migration(item.name.removesuffix(".sql"), item.read_text("utf-8")) for item in files]


def migrate(database_url: str) -> list[str]:
    """Applies what is missing; returns the versions this call applied (none when up to date)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            return _apply_missing(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))


def _apply_missing(conn: psycopg.Connection) -> list[str]:
    conn.execute(_CREATE_LEDGER)
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    done = []
    for migration in available_migrations():
        if migration.version in applied:
            continue
        with conn.transaction():
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", (migration.version,)
            )
        log.info("applied migration", extra={"version": migration.version})
        done.append(migration.version)
    return done
