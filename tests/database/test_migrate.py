"""Migrations: applied in order, once, under a lock; a second run changes nothing."""

import threading

import psycopg
import pytest
from psycopg import sql

from export_database.migrate import available_migrations, migrate

pytestmark = pytest.mark.integration


def test_migrations_are_numbered_and_ordered() -> None:
    versions = [migration.version for migration in available_migrations()]

    assert versions[0] == "001_core"
    numbers = [int(version.split("_", 1)[0]) for version in versions]
    assert numbers == sorted(set(numbers))


def test_applies_everything_once(empty_database: str) -> None:
    every = [migration.version for migration in available_migrations()]

    assert migrate(empty_database) == every
    assert migrate(empty_database) == []
    with psycopg.connect(empty_database) as conn:
        recorded = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    assert sorted(recorded) == every
    assert {"spaces", "api_keys", "companies"} <= tables


def test_concurrent_runners_apply_each_migration_once(empty_database: str) -> None:
    applied: list[list[str]] = []
    runners = [
        threading.Thread(target=lambda: applied.append(migrate(empty_database))) for _ in range(4)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=60)

    every = [migration.version for migration in available_migrations()]
    assert sorted(applied, key=len) == [[], [], [], every]


@pytest.mark.parametrize(
    ("column", "index"),
    [("created_at", "companies_space_created"), ("updated_at", "companies_space_updated")],
)
def test_export_index_serves_a_space_range_in_order(
    empty_database: str, column: str, index: str
) -> None:
    migrate(empty_database)
    query = sql.SQL(
        "EXPLAIN SELECT id FROM companies WHERE space_id = 1"
        " AND {column} >= now() - interval '1 day' AND {column} < now()"
        " ORDER BY {column}, id"
    ).format(column=sql.Identifier(column))
    with psycopg.connect(empty_database) as conn:
        conn.execute("SET enable_seqscan = off")  # an empty table would not need the index
        plan = "\n".join(row[0] for row in conn.execute(query))
    assert index in plan
    assert "Sort" not in plan


def test_schema_refuses_what_an_export_cannot_write(empty_database: str) -> None:
    migrate(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        space = conn.execute(
            "INSERT INTO spaces (name, timezone) VALUES ('s', 'UTC') RETURNING id"
        ).fetchone()
        assert space is not None
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO companies (space_id, name, created_at, updated_at)"
                " VALUES (%s, 'x', 'infinity', now())",
                (space[0],),
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO spaces (name, timezone, subscription_status) VALUES ('s', 'UTC', 'x')"
            )
