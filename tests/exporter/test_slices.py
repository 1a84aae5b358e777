"""Time slices: they cover the range exactly, in order, and their number follows the rows."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from company_exporter.slices import MAX_SLICES, SLICES_PER_CONNECTION, time_slices

pytestmark = pytest.mark.unit

START = datetime(2024, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("span", "rows"),
    [(timedelta(days=3650), 1_000_000), (timedelta(seconds=1), 50_000), (timedelta(days=1), 7)],
)
def test_slices_cover_the_range_without_gap_or_overlap(span: timedelta, rows: int) -> None:
    slices = time_slices(START, START + span, rows, 100, 2)

    assert slices[0].start == START
    assert slices[-1].end == START + span
    assert all(a.end == b.start for a, b in pairwise(slices))
    assert all(piece.end - piece.start >= MICROSECOND for piece in slices)
    widths = {piece.end - piece.start for piece in slices}
    assert max(widths) - min(widths) <= MICROSECOND  # equal spans, to the microsecond


def test_fewer_rows_than_a_slice_read_as_one() -> None:
    assert len(time_slices(START, START + timedelta(days=1), 19_999, 20_000, 4)) == 1


def test_the_count_follows_the_rows_with_a_floor_per_connection() -> None:
    day = START + timedelta(days=1)

    assert len(time_slices(START, day, 1_000_000, 20_000, 2)) == 50
    assert len(time_slices(START, day, 20_000, 20_000, 3)) == 3 * SLICES_PER_CONNECTION
    assert len(time_slices(START, day, 10**9, 1, 2)) == MAX_SLICES


def test_never_narrower_than_a_microsecond() -> None:
    assert len(time_slices(START, START + 5 * MICROSECOND, 10**6, 1, 2)) == 5
