"""Pure rules of webhooks: which addresses and URLs are refused, signatures, and backoff."""

import ipaddress
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from export_webhooks.addresses import (
    AddressPolicy,
    RefusedAddressError,
    address_kind,
    parse_https_url,
    parse_networks,
)
from export_webhooks.dispatcher import retry_time
from export_webhooks.outbox import ClaimedDelivery
from export_webhooks.settings import DispatcherSettings
from export_webhooks.signing import new_secret, signed_headers


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local (cloud metadata lives here)"),
        ("fe80::1", "link-local (cloud metadata lives here)"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fd00:ec2::254", "private"),
        ("100.64.0.1", "not globally routable"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address checked, not bound)
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_every_internal_address_kind_is_named_and_public_ones_pass(
    address: str, kind: str | None
) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_allowed_networks_let_a_development_receiver_through() -> None:
    policy = AddressPolicy(parse_networks(["127.0.0.1", "10.0.0.0/8"]))
    policy.check_address("localhost", ipaddress.ip_address("127.0.0.1"))
    policy.check_address("10.9.9.9", ipaddress.ip_address("10.9.9.9"))
    with pytest.raises(RefusedAddressError, match=r"localhost \(127.0.0.2\) is loopback"):
        policy.check_address("localhost", ipaddress.ip_address("127.0.0.2"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "must start with https://"),
        ("https://user:pw@hooks.example.com/", "holds credentials"),
        ("https:///path", "has no host"),
        ("https://hooks.example.com:99999/", "cannot be parsed"),
        ("https://hooks.example.com/" + "a" * 2100, "longer than 2048"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url: str, message: str) -> None:
    with pytest.raises(RefusedAddressError, match=message):
        parse_https_url(url)


def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(RefusedAddressError, match=r"localhost .* is loopback"):
        anyio.run(AddressPolicy().check_url, "https://localhost/hook")


def test_signatures_verify_with_the_library_and_both_secrets_sign_during_an_overlap() -> None:
    new, old = new_secret(), new_secret()
    body = '{"type":"export.completed"}'
    headers = signed_headers([new, old], "msg_1", body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers) == {"type": "export.completed"}
    assert Webhook(old).verify(body, headers) == {"type": "export.completed"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("completed", "failed"), headers)


def _delivery(attempts: int, due_at: datetime) -> ClaimedDelivery:
    return ClaimedDelivery(
        id="msg_1", endpoint_id=1, space_id=1, event="export.completed", export_id=1,
        payload="{}", attempts=attempts, due_at=due_at, url="https://x/", secret=new_secret(),
        previous_secret=None,
    )  # fmt: skip


def test_backoff_doubles_with_jitter_up_to_the_cap_and_stops_at_the_window() -> None:
    settings = DispatcherSettings(
        database_url="postgresql://u:p@localhost/db",
        webhook_backoff_seconds=10,
        webhook_backoff_max_seconds=60,
        webhook_retry_window_seconds=3600,
    )
    now = datetime.now(UTC)
    for attempts, step in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        delays = [
            (retry - now).total_seconds()
            for _ in range(50)
            if (retry := retry_time(settings, _delivery(attempts, now), now))
        ]
        assert len(delays) == 50
        assert step / 2 <= min(delays)
        assert max(delays) <= step
        assert max(delays) - min(delays) > step / 10  # jittered, not fixed
    late = _delivery(5, now - timedelta(seconds=3590))
    assert retry_time(settings, late, now) is None
