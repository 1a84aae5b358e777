"""The data generator: many rows fast, repeatable, and full of what breaks exporters."""

import time
from datetime import timedelta

import psycopg
import pytest

from export_database.generate import (
    DEFAULT_FIRST_INSTANT,
    DEFAULT_SPREAD,
    create_space,
    generate_companies,
)
from export_database.migrate import migrate

pytestmark = pytest.mark.integration

CONTENT = (
    "SELECT name, domain, industry, employee_count, annual_revenue, description, tags,"
    " custom_attributes, created_at - %s AS offset, updated_at - created_at AS edited"
    " FROM companies WHERE space_id = %s ORDER BY id"
)


@pytest.fixture
def database(empty_database: str) -> str:
    migrate(empty_database)
    return empty_database


def test_same_seed_same_companies(database: str) -> None:
    with psycopg.connect(database) as conn:
        first, second, third = (create_space(conn, f"s{n}", "UTC") for n in range(3))
        generate_companies(conn, first, 500, seed=7)
        generate_companies(conn, second, 500, seed=7)
        generate_companies(conn, third, 500, seed=8)
        rows = {
            space: conn.execute(CONTENT, (DEFAULT_FIRST_INSTANT, space)).fetchall()
            for space in (first, second, third)
        }
    assert rows[first] == rows[second]
    assert rows[first] != rows[third]


def test_rows_are_varied_and_hostile(database: str, figures: list[str]) -> None:
    with psycopg.connect(database) as conn:
        space = create_space(conn, "varied", "Europe/Berlin")
        started = time.monotonic()
        count = generate_companies(conn, space, 50_000, seed=1)
        seconds = time.monotonic() - started
        stats = conn.execute(
            """
            SELECT count(*) FILTER (WHERE domain IS NULL),
                   count(*) FILTER (WHERE description IS NULL),
                   count(*) FILTER (WHERE name ~ '["\\\\]' OR description ~ '["\\\\]'),
                   count(*) FILTER (WHERE name ~ '[\\n\\r\\t]' OR description ~ '\\n'),
                   count(*) FILTER (WHERE name ~ '[^\\x01-\\x7f]'),
                   count(*) FILTER (WHERE custom_attributes <> '{}'),
                   min(length(coalesce(description, ''))), max(length(description)),
                   min(created_at), max(created_at), count(DISTINCT created_at)
            FROM companies WHERE space_id = %s
            """,
            (space,),
        ).fetchone()
    assert stats is not None
    (no_domain, no_description, quoting, newlines, unicode, attributes,
     shortest, longest, first, last, distinct) = stats  # fmt: skip
    figures.append(f"generator: 50,000 companies in {seconds:.2f} s")
    assert count == 50_000
    assert 0 < no_domain < count
    assert 0 < no_description < count
    assert quoting > 100
    assert newlines > 100
    assert unicode > count // 4
    assert 0 < attributes < count
    assert shortest == 0
    assert longest > 400
    # Spread over the years (so over many DST changes of every zone), nearly never the same.
    assert first - DEFAULT_FIRST_INSTANT < timedelta(days=2)
    assert DEFAULT_FIRST_INSTANT + DEFAULT_SPREAD - last < timedelta(days=2)
    assert distinct > count * 0.99
