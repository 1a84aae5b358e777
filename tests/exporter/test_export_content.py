"""What an export holds: every row of the range once, in order, equal to its database row.

Every test runs three times: read on one connection; cut into a slice per estimated row (24 at
least, 1,024 at most) read by three connections side by side, which is what large exports do;
and sharded, the slices read by three shard processes beside a coordinator, which is what the
largest exports do across Pods.
"""

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from export_database.generate import DEFAULT_FIRST_INSTANT, DEFAULT_SPREAD, generate_companies
from local_cluster.image_program import ImageProgram
from local_cluster.s3 import S3Server
from tests.exporter.conftest import (
    Exporter,
    database_rows,
    insert_companies,
    new_space,
    parse_line,
    read_export,
)

pytestmark = pytest.mark.integration

WHOLE_START = DEFAULT_FIRST_INSTANT
WHOLE_END = DEFAULT_FIRST_INSTANT + DEFAULT_SPREAD + timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
READINGS = {  # settings, shards
    "one connection": ({"EXPORT_DATABASE_CONNECTIONS": "1"}, 1),
    "sliced, three connections": (
        {"EXPORT_SLICE_ROWS": "1", "EXPORT_DATABASE_CONNECTIONS": "3"}, 1
    ),
    "sharded, three shards": ({"EXPORT_SLICE_ROWS": "1", "EXPORT_DATABASE_CONNECTIONS": "2"}, 3),
}  # fmt: skip


@pytest.fixture(params=READINGS.values(), ids=READINGS.keys())
def exporter(
    exporter_program: ImageProgram,
    database_url: str,
    s3: S3Server,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Exporter:
    settings, shards = request.param
    return Exporter(exporter_program, database_url, s3, tmp_path, settings=settings, shards=shards)


def assert_export_equals_database(
    exporter: Exporter, s3: S3Server, space_id: int, start: datetime, end: datetime
) -> int:
    """Exports [start, end) and checks the object line by line against a plain SELECT."""
    run = exporter.run(space_id, start, end)
    result = run.result()
    exported = read_export(s3, run.key)
    expected = database_rows(exporter.database_url, space_id, start, end)
    assert [parse_line(line) for line in exported.lines] == expected
    assert result.records == len(expected)
    assert result.bytes == len(exported.raw)
    assert result.sha256 == hashlib.sha256(exported.raw).hexdigest()
    assert (result.bucket, result.object_key, result.export_id) == (s3.bucket, run.key, 7)
    return result.records


def test_small_export_matches_database(exporter: Exporter, s3: S3Server) -> None:
    space_id = new_space(exporter.database_url)
    with psycopg.connect(exporter.database_url) as conn:
        generate_companies(conn, space_id, 3000, seed=3)
    other_space = new_space(exporter.database_url)
    insert_companies(exporter.database_url, other_space, [{"created_at": WHOLE_START}])

    assert assert_export_equals_database(exporter, s3, space_id, WHOLE_START, WHOLE_END) == 3000


def test_100k_export_matches_database(exporter: Exporter, s3: S3Server, space_100k: int) -> None:
    run_records = assert_export_equals_database(exporter, s3, space_100k, WHOLE_START, WHOLE_END)
    assert run_records == 100_000


def test_100k_export_keeps_memory_flat(
    exporter: Exporter, s3: S3Server, space_100k: int, figures: list[str]
) -> None:
    run = exporter.run(space_100k, WHOLE_START, WHOLE_END,
                       overrides={"EXPORT_PROGRESS_SECONDS": "0.2"})  # fmt: skip
    result = run.result()
    progress = [json.loads(line) for line in run.stderr.splitlines() if "export progress" in line]
    assert progress, "a long export logs its progress"
    assert all(line["records"] > 0 and line["rows_per_second"] > 0 for line in progress)
    for pod in {line["shard"] for line in progress}:  # None: one Pod's export
        counts = [line["records"] for line in progress if line["shard"] == pod]
        assert counts == sorted(counts)
    started = next(
        json.loads(line) for line in run.stderr.splitlines() if '"export started"' in line
    )
    figures.append(
        f"exporter, 100k rows, {started['slices']} slices on {started['connections']}"
        f" connection(s): {run.seconds:.2f} s ({result.records / run.seconds:,.0f} rows/s"
        f" with start-up), peak RSS {run.peak_rss_mb:.0f} MB, gzip {result.bytes / 1e6:.1f} MB"
    )
    # The NDJSON is ~70 MB; the process holds a few pages and parts at a time. Imports take ~80
    # MB and polars' first page ~40 MB more (its runtime's pools): measured 173-206 MB here and
    # ~255 MB at 1M rows (benchmarks/exporter.py), against 512 MiB, the chart's limit.
    assert run.peak_rss_mb < 256


def test_empty_range_is_a_valid_empty_gzip(exporter: Exporter, s3: S3Server) -> None:
    space_id = new_space(exporter.database_url)
    insert_companies(exporter.database_url, space_id, [{"created_at": WHOLE_START}])

    run = exporter.run(space_id, WHOLE_START + timedelta(days=1), WHOLE_START + timedelta(days=2))

    result = run.result()
    exported = read_export(s3, run.key)
    assert result.records == 0
    assert gzip.decompress(exported.raw) == b""
    assert result.bytes == len(exported.raw) > 0


def test_range_boundaries(exporter: Exporter, s3: S3Server) -> None:
    # The client asked for 2024-01-15 00:00:00 .. 12:00:00 in a UTC space; the API added 1 s.
    start = datetime(2024, 1, 15, tzinfo=UTC)
    end = datetime(2024, 1, 15, 12, 0, 1, tzinfo=UTC)
    instants = {
        "before start": start - MICROSECOND,
        "at start": start,
        "inside": start + timedelta(hours=1, microseconds=123),
        "end second": end - timedelta(seconds=1),
        "end second, last microsecond": end - MICROSECOND,
        "after end second": end,
    }
    space_id = new_space(exporter.database_url)
    rows = [{"name": name, "created_at": at} for name, at in instants.items()]
    insert_companies(exporter.database_url, space_id, rows)

    run = exporter.run(space_id, start, end)

    names = [parse_line(line)["name"] for line in read_export(s3, run.key).lines]
    assert names == ["at start", "inside", "end second", "end second, last microsecond"]
    assert run.result().records == 4


def test_same_instant_rows_come_in_id_order(exporter: Exporter, s3: S3Server) -> None:
    at = datetime(2024, 2, 1, tzinfo=UTC)
    space_id = new_space(exporter.database_url)
    insert_companies(exporter.database_url, space_id, [{"created_at": at}] * 5)

    run = exporter.run(space_id, at, at + timedelta(seconds=1))

    ids = [parse_line(line)["id"] for line in read_export(s3, run.key).lines]
    assert ids == sorted(ids)
    assert len(ids) == 5


def _local_range(zone: ZoneInfo, start: str, end: str) -> tuple[datetime, datetime]:
    """The design's rule: naive local times; an ambiguous one widens the range."""
    first = datetime.fromisoformat(start).replace(tzinfo=zone, fold=0)
    last = datetime.fromisoformat(end).replace(tzinfo=zone, fold=1)
    return first.astimezone(UTC), last.astimezone(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("local_day", "hours"),
    [("2024-03-31", 23), ("2024-10-27", 25)],
    ids=["spring-gap", "autumn-fold"],
)
def test_dst_days_in_the_space_timezone(
    exporter: Exporter, s3: S3Server, local_day: str, hours: int
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    space_id = new_space(exporter.database_url, "Europe/Berlin")
    start, end = _local_range(zone, f"{local_day} 00:00:00", f"{local_day} 23:59:59")
    # One company every 10 minutes, from 3 h before the local day to 3 h after it.
    first = start - timedelta(hours=3)
    instants = [first + timedelta(minutes=10 * step) for step in range((hours + 6) * 6)]
    insert_companies(exporter.database_url, space_id, [{"created_at": at} for at in instants])

    run = exporter.run(space_id, start, end)

    created = [parse_line(line)["created_at"] for line in read_export(s3, run.key).lines]
    assert created == [at for at in instants if start <= at < end]
    assert len(created) == hours * 6
    assert {at.astimezone(zone).date().isoformat() for at in created} == {local_day}


def test_ambiguous_local_times_widen_the_range(exporter: Exporter, s3: S3Server) -> None:
    zone = ZoneInfo("Europe/Berlin")
    space_id = new_space(exporter.database_url, "Europe/Berlin")
    # 02:30 happens twice on 2024-10-27: 00:30 UTC (CEST) and 01:30 UTC (CET).
    first_0230 = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    second_0230 = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    insert_companies(exporter.database_url, space_id, [
        {"name": "before", "created_at": first_0230 - MICROSECOND},
        {"name": "first 02:30", "created_at": first_0230},
        {"name": "between", "created_at": first_0230 + timedelta(minutes=30)},
        {"name": "second 02:30", "created_at": second_0230},
        {"name": "after", "created_at": second_0230 + timedelta(seconds=1)},
    ])  # fmt: skip
    start, end = _local_range(zone, "2024-10-27 02:30:00", "2024-10-27 02:30:00")

    run = exporter.run(space_id, start, end)

    names = [parse_line(line)["name"] for line in read_export(s3, run.key).lines]
    assert names == ["first 02:30", "between", "second 02:30"]


HOSTILE = [
    '"', "\\", "\\\\", '\\"', "\\n", "\n", "\r\n", "\t", "\b\f\v", "\x01\x1f\x7f",
    "\u2028\u2029", "\u0085", "😀👍🏽", "\ufeffBOM", "é" * 3 + "e\u0301", "ü\\u00fc",
    "</script><script>", "{\"a\": 1}", "trailing backslash\\", "C:\\path\\to\\file",
    "tab\tand\nnewline\\and\\\\backslashes", "x" * 100_000,
]  # fmt: skip


def test_hostile_strings_round_trip(exporter: Exporter, s3: S3Server) -> None:
    at = datetime(2023, 6, 1, tzinfo=UTC)
    space_id = new_space(exporter.database_url)
    rows = [
        {
            "name": text, "domain": text[:50], "description": text, "street": f"{text} 1",
            "tags": [text, "plain", "with,comma", '{"brace"}', "NULL", ""],
            "custom_attributes": {text: text, "nested": {"list": [text, None, 1.5, True]}},
            "created_at": at + timedelta(seconds=index),
        }
        for index, text in enumerate(HOSTILE)
    ]  # fmt: skip
    rows.append({"name": "all nulls", "created_at": at + timedelta(hours=1)})
    insert_companies(exporter.database_url, space_id, rows)

    run = exporter.run(space_id, at, at + timedelta(days=1))

    exported = read_export(s3, run.key)
    assert len(exported.lines) == len(HOSTILE) + 1
    companies = [parse_line(line) for line in exported.lines]
    assert [company["name"] for company in companies] == [*HOSTILE, "all nulls"]
    assert companies == database_rows(exporter.database_url, space_id, at, at + timedelta(days=1))
    assert companies[-1]["domain"] is None
    assert companies[-1]["tags"] == []


UPDATES_START = datetime(2030, 1, 1, tzinfo=UTC)  # after every generated updated_at


def test_an_updated_at_export_holds_exactly_the_updated_companies(
    exporter: Exporter, s3: S3Server
) -> None:
    """An incremental export after some companies were updated: those companies, in
    (updated_at, id) order, each line byte for byte its line in the created_at export."""
    space_id = new_space(exporter.database_url)
    with psycopg.connect(exporter.database_url) as conn:
        generate_companies(conn, space_id, 500, seed=5)
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM companies WHERE space_id = %s ORDER BY id", (space_id,)
        )]  # fmt: skip
        updated = ids[::7]
        window_end = UPDATES_START + timedelta(minutes=11)
        # In the window in an order unlike the ids', with ties, from its first microsecond on;
        # two more just outside it.
        times = {
            company_id: UPDATES_START + timedelta(minutes=index * 37 % 11)
            for index, company_id in enumerate(updated)
        }
        times |= {ids[1]: UPDATES_START - MICROSECOND, ids[2]: window_end}
        for company_id, at in times.items():
            conn.execute("UPDATE companies SET updated_at = %s WHERE id = %s", (at, company_id))
        expected = [row[0] for row in conn.execute(
            "SELECT id FROM companies WHERE space_id = %s AND updated_at >= %s AND updated_at < %s"
            " ORDER BY updated_at, id", (space_id, UPDATES_START, window_end),
        )]  # fmt: skip

    by_created = exporter.run(space_id, WHOLE_START, WHOLE_END)
    by_updated = exporter.run(
        space_id, UPDATES_START, window_end, overrides={"EXPORT_DATE_FIELD": "updated_at"}
    )

    line_of = {json.loads(line)["id"]: line for line in read_export(s3, by_created.key).lines}
    assert len(line_of) == by_created.result().records == 500
    lines = read_export(s3, by_updated.key).lines
    assert sorted(expected) == sorted(updated)
    assert expected != updated  # the ids' order is not the file's
    assert lines == [line_of[company_id] for company_id in expected]
    assert by_updated.result().records == len(updated)
