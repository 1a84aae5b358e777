"""Where webhooks may go: https URLs whose every resolved address is on the public internet.

A webhook URL is chosen by a client, and the dispatcher runs inside the cluster: without this
policy, a URL could make it call the cloud's metadata service, the cluster's own services or
anything on the private network (server-side request forgery). The API checks a URL when it is
registered; the dispatcher checks the addresses a name resolves to at every connection and
connects only to the address it checked, so a name that later resolves elsewhere (DNS
rebinding) gains nothing. Development installs may allow some networks (`allowed`).
"""

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

import anyio
from pydantic import BeforeValidator
from pydantic_settings import NoDecode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
# How long a name may take to resolve before the attempt fails.
RESOLVE_TIMEOUT_SECONDS = 5.0


class RefusedAddressError(Exception):
    """The URL or an address it resolves to is not allowed; the message says which and why."""


def address_kind(address: IPAddress) -> str | None:
    """Why an address is refused ("loopback", "private", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address_kind(address.ipv4_mapped)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local (cloud metadata lives here)", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, plus the `allowed` networks (for development receivers)."""

    allowed: Sequence[IPNetwork] = field(default_factory=tuple)

    def check_address(self, host: str, address: IPAddress) -> None:
        kind = address_kind(address)
        if kind is None or any(address in network for network in self.allowed):
            return
        shown = host if host == str(address) else f"{host} ({address})"
        raise RefusedAddressError(
            f"webhook address {shown} is {kind}: webhooks go only to public addresses"
        )

    async def resolve(self, host: str, port: int) -> IPAddress:
        """The address to connect to: every address `host` resolves to must pass the policy."""
        addresses = await resolve_all(host, port)
        for address in addresses:
            self.check_address(host, address)
        return addresses[0]

    async def check_url(self, url: str) -> None:
        """Refuses a URL that is not https or whose host resolves to a refused address."""
        host, port = parse_https_url(url)
        await self.resolve(host, port)


def parse_https_url(url: str) -> tuple[str, int]:
    """The host and port of an https URL without credentials; anything else is refused."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedAddressError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError as error:
        raise RefusedAddressError(f"the URL cannot be parsed ({error})") from None
    if parts.scheme != "https":
        raise RefusedAddressError("the URL must start with https:// (webhooks are sent over TLS)")
    if not parts.hostname:
        raise RefusedAddressError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddressError(
            "the URL holds credentials: authenticate deliveries by their signature instead"
        )
    return parts.hostname, port


async def resolve_all(host: str, port: int) -> list[IPAddress]:
    try:
        with anyio.fail_after(RESOLVE_TIMEOUT_SECONDS):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise RefusedAddressError(f"{host} did not resolve within the time allowed") from None
    except OSError as error:
        raise RefusedAddressError(f"{host} does not resolve ({error.strerror})") from None
    return _unique(ipaddress.ip_address(info[4][0]) for info in infos)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs ("10.0.0.0/8") or single addresses, for the `allowed` list."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _unique(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    return list(dict.fromkeys(addresses))


def _networks_from_setting(value: object) -> object:
    # Environment variables hold a comma-separated list; Python callers may pass a sequence.
    if isinstance(value, str):
        return parse_networks(part for part in value.split(",") if part.strip())
    return value


# A settings field: `WEBHOOK_ALLOWED_NETWORKS=10.0.0.0/8,127.0.0.1` (empty: public only).
AllowedNetworks = Annotated[
    tuple[IPNetwork, ...], NoDecode, BeforeValidator(_networks_from_setting)
]
