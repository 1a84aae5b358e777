"""The SQL of one company's JSON: every column, in the order of the `company_json_line` type."""

import json

import psycopg
import pytest
from psycopg import sql

from export_database.company_json import COMPANY_FIELDS, company_json
from export_database.migrate import migrate

pytestmark = pytest.mark.integration


def test_the_line_type_has_every_column_in_order(empty_database: str) -> None:
    migrate(empty_database)
    with psycopg.connect(empty_database) as conn:
        line_fields = [
            row[0]
            for row in conn.execute(
                "SELECT attname FROM pg_attribute"
                " WHERE attrelid = 'company_json_line'::regclass AND attnum > 0 ORDER BY attnum"
            )
        ]
        table_columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'companies'"
            )
        }
    assert line_fields == list(COMPANY_FIELDS)
    assert set(COMPANY_FIELDS) == table_columns


def test_timestamps_are_rfc3339_utc_whatever_the_session_zone(empty_database: str) -> None:
    migrate(empty_database)
    with psycopg.connect(empty_database) as conn:
        conn.execute("SET TimeZone = 'America/St_Johns'")  # an offset of -03:30 or -02:30
        space = conn.execute(
            "INSERT INTO spaces (name, timezone) VALUES ('s', 'UTC') RETURNING id"
        ).fetchone()
        assert space is not None
        conn.execute(
            "INSERT INTO companies (space_id, name, created_at, updated_at) VALUES"
            " (%s, 'a', '2024-03-10 02:30:00.5+00', '2024-11-03 05:00:00+00')",
            (space[0],),
        )
        query = sql.SQL("SELECT {}::text FROM companies c").format(sql.SQL(company_json("c")))
        row = conn.execute(query).fetchone()
    assert row is not None
    company = json.loads(row[0])
    assert company["created_at"] == "2024-03-10T02:30:00.5Z"
    assert company["updated_at"] == "2024-11-03T05:00:00Z"
    assert "\n" not in row[0]
