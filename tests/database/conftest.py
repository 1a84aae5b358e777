"""Fixtures of the database tests: a fresh, empty database per test on the session's server."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from local_cluster.postgres import Postgres


@pytest.fixture
def empty_database(postgres: Postgres) -> Iterator[str]:
    """The URL of a new database that nothing else uses; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin_url = postgres.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
