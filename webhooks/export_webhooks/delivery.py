"""One attempt at one delivery: a signed POST over TLS to an address the policy allows.

Built on httpcore's connection pool with a network backend that resolves and checks each host
itself, then connects to the checked address (TLS still verifies the URL's host name). No
redirect is followed, no proxy is used, and no more than `RESPONSE_LIMIT` bytes of an answer
are read: a receiver can only say yes (2xx) or no.
"""

import ssl
from dataclasses import dataclass
from typing import Any

import anyio
import certifi
import httpcore

from export_webhooks.addresses import AddressPolicy, RefusedAddressError
from export_webhooks.outbox import ClaimedDelivery
from export_webhooks.settings import DispatcherSettings
from export_webhooks.signing import signed_headers

RESPONSE_LIMIT = 16 * 1024
USER_AGENT = "company-exports-webhooks/1"
_TRANSPORT_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
    OSError,
)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, and to exactly the address it checked."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self._policy.resolve(host, port)
        return await self._backend.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddressError("webhooks are not sent to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class Sender:
    def __init__(self, settings: DispatcherSettings) -> None:
        self._settings = settings
        context = ssl.create_default_context(
            cafile=str(settings.webhook_ca_bundle or certifi.where())
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=settings.webhook_concurrency,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(AddressPolicy(settings.webhook_allowed_networks)),
        )

    async def send(self, delivery: ClaimedDelivery) -> Outcome:
        try:
            with anyio.fail_after(self._settings.webhook_timeout_seconds):
                status_code = await self._post(delivery)
        except RefusedAddressError as error:
            return Outcome(None, str(error))
        except TimeoutError:
            limit = self._settings.webhook_timeout_seconds
            return Outcome(None, f"no complete answer within {limit:g} s")
        except _TRANSPORT_ERRORS as error:
            return Outcome(None, f"{type(error).__name__}: {error or 'connection failed'}")
        return _judged(status_code)

    async def _post(self, delivery: ClaimedDelivery) -> int:
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signed_headers(delivery.secrets, delivery.id, delivery.payload),
        }
        timeouts = {
            "connect": self._settings.webhook_connect_timeout_seconds,
            "read": self._settings.webhook_timeout_seconds,
            "write": self._settings.webhook_timeout_seconds,
            "pool": self._settings.webhook_timeout_seconds,
        }
        async with self._pool.stream(
            "POST",
            delivery.url,
            headers=list(headers.items()),
            content=delivery.payload.encode(),
            extensions={"timeout": timeouts},
        ) as response:
            await _read_at_most(response, RESPONSE_LIMIT)
            return response.status

    async def aclose(self) -> None:
        await self._pool.aclose()


async def _read_at_most(response: httpcore.Response, limit: int) -> None:
    # The answer's body is not used; reading it (up to a limit) lets the connection be reused.
    read = 0
    async for chunk in response.aiter_stream():
        read += len(chunk)
        if read > limit:
            return


def _judged(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome(status_code)
    if 300 <= status_code < 400:
        return Outcome(status_code, f"answered {status_code}: redirects are not followed")
    return Outcome(status_code, f"answered {status_code}")
