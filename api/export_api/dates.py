"""Client date ranges: naive local times in the space's IANA timezone, resolved to UTC instants.

A range covers `start <= created_at < end + 1 second`, so `00:00:00`..`23:59:59` is one whole day
with sub-second timestamps included. A local time that does not exist (the hour skipped when
clocks go forward) is refused; an ambiguous one (the hour repeated when clocks go back) takes the
reading that widens the range: the earlier instant for the start, the later one for the end.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from export_api.errors import InvalidParametersError

LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
# Far enough for any company's history; refusing the rest keeps arithmetic away from year 9999.
MIN_YEAR = 1900
MAX_YEAR = 2999
_ONE_SECOND = timedelta(seconds=1)


class Edge(Enum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class ResolvedRange:
    """`start` inclusive, `end` exclusive, both in UTC."""

    start: datetime
    end: datetime


def parse_local_time(field: str, text: str) -> datetime:
    """Parses exactly `YYYY-MM-DD HH:MM:SS` (naive), or refuses naming the field."""
    if not _LOCAL_TIME.fullmatch(text):
        raise InvalidParametersError(
            f"{field}: must be in YYYY-MM-DD HH:MM:SS format, e.g. 2024-01-15 00:00:00."
        )
    try:
        value = datetime.strptime(text, LOCAL_TIME_FORMAT)
    except ValueError:
        raise InvalidParametersError(
            f"{field}: {text} is not a real calendar date and time; check the day of the month "
            "and that hours are 00-23, minutes and seconds 00-59."
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidParametersError(
            f"{field}: the year must be between {MIN_YEAR} and {MAX_YEAR}."
        )
    return value


def to_utc(field: str, local: datetime, zone: ZoneInfo, edge: Edge) -> datetime:
    """The UTC instant of a local wall-clock time, widening the range on an ambiguous time."""
    earlier = local.replace(tzinfo=zone, fold=0)
    later = local.replace(tzinfo=zone, fold=1)
    if _round_trip(earlier, zone) != local and _round_trip(later, zone) != local:
        raise InvalidParametersError(
            f"{field}: {local:%Y-%m-%d %H:%M:%S} does not exist in {zone.key} (clocks skip it "
            "when daylight saving time starts); use a time outside the skipped hour."
        )
    readings = sorted({earlier.astimezone(UTC), later.astimezone(UTC)})
    return readings[0] if edge is Edge.START else readings[-1]


def _round_trip(aware: datetime, zone: ZoneInfo) -> datetime:
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)


def resolve_range(start_date: str, end_date: str, timezone: str) -> ResolvedRange:
    """Validates a client's range and resolves it to `[start, end + 1 s)` in UTC."""
    zone = ZoneInfo(timezone)
    start_local = parse_local_time("start_date", start_date)
    end_local = parse_local_time("end_date", end_date)
    if end_local <= start_local:
        raise InvalidParametersError("end_date: must be after start_date.")
    start = to_utc("start_date", start_local, zone, Edge.START)
    end = to_utc("end_date", end_local, zone, Edge.END) + _ONE_SECOND
    return ResolvedRange(start=start, end=end)


def resolve_bound(field: str, text: str, timezone: str, edge: Edge) -> datetime:
    """One optional bound of List Companies, resolved like an export's range."""
    instant = to_utc(field, parse_local_time(field, text), ZoneInfo(timezone), edge)
    return instant + _ONE_SECOND if edge is Edge.END else instant
