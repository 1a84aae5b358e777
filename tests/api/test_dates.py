from datetime import UTC, datetime

import pytest

from export_api.dates import Edge, resolve_bound, resolve_range
from export_api.errors import InvalidParametersError

pytestmark = pytest.mark.unit


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_whole_day_in_berlin_winter_ends_one_second_after_the_last() -> None:
    resolved = resolve_range("2024-01-15 00:00:00", "2024-01-15 23:59:59", "Europe/Berlin")
    assert resolved.start == utc(2024, 1, 14, 23, 0, 0)
    assert resolved.end == utc(2024, 1, 15, 23, 0, 0)


def test_utc_space_is_taken_literally() -> None:
    resolved = resolve_range("2024-07-01 10:00:00", "2024-07-01 10:00:01", "UTC")
    assert (resolved.start, resolved.end) == (utc(2024, 7, 1, 10), utc(2024, 7, 1, 10, 0, 2))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2024-03-31 02:30:00", "2024-03-31 05:00:00", "start_date"),
        ("2024-03-30 00:00:00", "2024-03-31 02:00:00", "end_date"),
    ],
)
def test_a_local_time_skipped_by_dst_is_refused(start: str, end: str, field: str) -> None:
    with pytest.raises(
        InvalidParametersError, match=rf"^{field}: .* does not exist in Europe/Berlin"
    ):
        resolve_range(start, end, "Europe/Berlin")


def test_an_ambiguous_start_takes_the_earlier_reading_and_end_the_later() -> None:
    # 2024-10-27 02:30 happens twice in Berlin: at 00:30 UTC (CEST) and at 01:30 UTC (CET).
    resolved = resolve_range("2024-10-27 02:30:00", "2024-10-27 02:30:01", "Europe/Berlin")
    assert resolved.start == utc(2024, 10, 27, 0, 30, 0)
    assert resolved.end == utc(2024, 10, 27, 1, 30, 2)


def test_new_york_fold_widens_too() -> None:
    resolved = resolve_range("2024-11-03 01:00:00", "2024-11-03 01:59:59", "America/New_York")
    assert resolved.start == utc(2024, 11, 3, 5, 0, 0)  # EDT reading
    assert resolved.end == utc(2024, 11, 3, 7, 0, 0)  # EST reading + 1 s


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-01-15", "2024-01-16 00:00:00", r"^start_date: must be in YYYY-MM-DD HH:MM:SS"),
        ("2024-01-15T00:00:00", "2024-01-16 00:00:00", r"^start_date: must be in"),
        ("2024-01-15 00:00:00", "2024-1-16 00:00:00", r"^end_date: must be in"),
        ("2024-02-30 00:00:00", "2024-03-01 00:00:00", r"^start_date: .* not a real calendar"),
        ("2023-02-29 00:00:00", "2024-03-01 00:00:00", r"^start_date: .* not a real calendar"),
        ("2024-01-15 24:00:00", "2024-01-16 00:00:00", r"^start_date: .* not a real calendar"),
        ("2024-01-15 00:00:60", "2024-01-16 00:00:00", r"^start_date: .* not a real calendar"),
        ("2024-01-16 00:00:00", "2024-01-15 00:00:00", r"^end_date: must be after start_date"),
        ("2024-01-16 00:00:00", "2024-01-16 00:00:00", r"^end_date: must be after start_date"),
        ("0001-01-01 00:00:00", "2024-01-16 00:00:00", r"^start_date: the year must be between"),
        ("2024-01-16 00:00:00", "9999-12-31 23:59:59", r"^end_date: the year must be between"),
        (
            "\uff12\uff10\uff12\uff14-01-15 00:00:00",
            "2024-01-16 00:00:00",
            r"^start_date: must be in",
        ),
    ],
)
def test_malformed_ranges_are_refused_naming_the_field(start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        resolve_range(start, end, "Europe/Berlin")


def test_leap_day_is_a_real_date() -> None:
    resolved = resolve_range("2024-02-29 00:00:00", "2024-02-29 23:59:59", "Asia/Tokyo")
    assert resolved.start == utc(2024, 2, 28, 15)


def test_bounds_of_list_companies_resolve_like_a_range() -> None:
    start = resolve_bound("start_date", "2024-10-27 02:30:00", "Europe/Berlin", Edge.START)
    end = resolve_bound("end_date", "2024-10-27 02:30:00", "Europe/Berlin", Edge.END)
    assert start == utc(2024, 10, 27, 0, 30)
    assert end == utc(2024, 10, 27, 1, 30, 1)
