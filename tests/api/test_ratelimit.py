import pytest

from export_api.ratelimit import Bucket, Limit, decide

pytestmark = pytest.mark.unit

CREATE = Limit(bucket=Bucket.CREATE, count=5, period=60)


def test_first_request_leaves_four_of_five() -> None:
    decision = decide(CREATE, allowed=True, ahead=12.0)
    assert (decision.allowed, decision.limit, decision.remaining) == (True, 5, 4)
    assert decision.headers() == {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}


def test_a_full_burst_leaves_none() -> None:
    assert decide(CREATE, allowed=True, ahead=59.98).remaining == 0


def test_a_refusal_says_when_to_retry() -> None:
    decision = decide(CREATE, allowed=False, ahead=59.5)
    assert decision.retry_after == 12
    assert decision.headers()["Retry-After"] == "12"
    assert decision.remaining == 0


def test_retry_after_is_at_least_one_second() -> None:
    assert decide(CREATE, allowed=False, ahead=48.01).retry_after == 1


def test_interval_spreads_the_period() -> None:
    assert Limit(bucket=Bucket.STATUS, count=30, period=60).interval.total_seconds() == 2
