"""The compiled path writes every line byte for byte as PostgreSQL's COMPANY_JSON builds it.

Lines are read the way the exporter reads them (a reader thread of `SliceReaders` in a snapshot,
its deflated output inflated again) and compared as bytes, not as parsed values, with what
PostgreSQL's own expression gives for the same rows: on hostile strings, on values the compiled
path hands back to PostgreSQL (NaN, arrays that are not plain lists, years outside 0001..9999),
on ties across page boundaries, and on 100k generated companies.
"""

import zlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from company_exporter.columns import PAGE_ROWS
from company_exporter.readers import Deflated, SliceReaders
from company_exporter.slices import TimeSlice
from company_exporter.source import Snapshot
from export_contracts.date_field import DateField
from export_database.company_json import COMPANY_JSON
from export_database.generate import DEFAULT_FIRST_INSTANT, DEFAULT_SPREAD
from tests.exporter.conftest import insert_companies, new_space
from tests.exporter.test_export_content import HOSTILE

pytestmark = pytest.mark.integration

AT = datetime(2023, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TEN_YEARS_TO_AT = TimeSlice(AT - 3650 * DAY, AT + DAY)

# Rows the compiled path could not write alike; PostgreSQL writes their line (or one column).
UNUSUAL = {
    "NaN revenue": {"annual_revenue": "NaN"},
    "revenue with its scale": {"annual_revenue": "1234.50"},
    "revenue of zero": {"annual_revenue": "0"},
    "revenue under one": {"annual_revenue": "0.5"},
    "the largest revenue": {"annual_revenue": "9999999999999.99"},
    "two-dimensional tags": {"tags": "{{a,b},{c,NULL}}"},
    "tags from index 0": {"tags": "[0:1]={x,y}"},
    "empty tags": {"tags": "{}"},
    "updated before Christ": {"updated_at": "0044-03-15 12:00:00+00 BC"},
    "updated in year 10000": {"updated_at": "10000-01-01 00:00:00+00"},
    "updated in year 1": {"updated_at": "0001-01-01 00:00:00+00"},
    "updated at the last microsecond of 9999": {"updated_at": "9999-12-31 23:59:59.999999+00"},
    "a microsecond": {"updated_at": "2024-01-01 00:00:00.000001+00"},
    "half a second": {"updated_at": "2024-01-01 00:00:00.5+00"},
    "ten seconds": {"updated_at": "2024-01-01 00:00:10+00"},
    "jsonb numbers and duplicate keys": {
        "custom_attributes": '{"b": 1.50, "a": [1e3, -0.0, null], "b": {"zz": true, "z": "€"}}'
    },
    "the largest employee count": {"employee_count": 2_147_483_647},
}


def compiled_lines(
    database_url: str,
    space_id: int,
    page_rows: int = PAGE_ROWS,
    by: DateField = DateField.CREATED_AT,
    between: TimeSlice = TEN_YEARS_TO_AT,
) -> bytes:
    """The slice's NDJSON as one reader thread writes it, in pages of `page_rows` rows."""
    with Snapshot(database_url, export_id=1) as snapshot:
        readers = snapshot.readers(1, page_rows)
        with SliceReaders(readers, space_id, by, [between], compression_level=1) as output:
            deflated = b"".join(item.data for item in output if isinstance(item, Deflated))
    return zlib.decompressobj(wbits=-15).decompress(deflated)


def postgresql_lines(
    database_url: str, space_id: int, by: DateField = DateField.CREATED_AT
) -> bytes:
    query = sql.SQL(
        "SELECT ({})::text FROM companies c WHERE space_id = %s ORDER BY {}, id"
    ).format(sql.SQL(COMPANY_JSON), sql.Identifier(by.value))
    with psycopg.connect(database_url) as conn:
        return b"".join(f"{line}\n".encode() for (line,) in conn.execute(query, (space_id,)))


def insert_raw(database_url: str, space_id: int, name: str, values: dict[str, object]) -> None:
    """One company with values given as PostgreSQL text, cast by the column's type."""
    columns = {"name": name, "created_at": AT, "updated_at": AT, **values, "space_id": space_id}
    statement = sql.SQL("INSERT INTO companies ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(map(sql.Placeholder, columns)),
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(statement, {key: str(value) for key, value in columns.items()})


@pytest.mark.parametrize("page_rows", [1, 3, 10_000])
def test_hostile_and_unusual_rows_are_written_as_postgresql_writes_them(
    database_url: str, page_rows: int
) -> None:
    space_id = new_space(database_url)
    insert_companies(database_url, space_id, [
        {
            "name": text, "domain": text[:50], "description": text, "street": f"{text} 1",
            "tags": [text, "plain", None, ""], "country_code": "DE", "employee_count": index,
            "custom_attributes": {text: text, "nested": {"list": [text, None, 1.5, True]}},
            "created_at": AT - timedelta(seconds=index, microseconds=index),
        }
        for index, text in enumerate(HOSTILE)
    ])  # fmt: skip
    for name, values in UNUSUAL.items():
        insert_raw(database_url, space_id, name, values)  # all at AT: ties across pages
    insert_companies(database_url, space_id, [{"name": "all nulls", "created_at": AT}])

    expected = postgresql_lines(database_url, space_id)
    assert expected.count(b"\n") == len(HOSTILE) + len(UNUSUAL) + 1
    assert compiled_lines(database_url, space_id, page_rows) == expected


def test_unusual_created_at_is_written_as_postgresql_writes_it_when_read_by_updated_at(
    database_url: str,
) -> None:
    """An updated_at range bounds updated_at only: created_at may be any finite instant."""
    space_id = new_space(database_url)
    for name, values in UNUSUAL.items():
        created = {"created_at" if key == "updated_at" else key: v for key, v in values.items()}
        insert_raw(database_url, space_id, name, created)  # all updated at AT
    expected = postgresql_lines(database_url, space_id, DateField.UPDATED_AT)
    assert expected.count(b"\n") == len(UNUSUAL)
    assert compiled_lines(database_url, space_id, 3, DateField.UPDATED_AT) == expected


def test_generated_companies_are_written_as_postgresql_writes_them(
    database_url: str, space_100k: int
) -> None:
    whole = TimeSlice(DEFAULT_FIRST_INSTANT, DEFAULT_FIRST_INSTANT + DEFAULT_SPREAD + DAY)
    compiled = compiled_lines(database_url, space_100k, between=whole)

    expected = postgresql_lines(database_url, space_100k)
    assert compiled.count(b"\n") == 100_000
    assert compiled == expected
