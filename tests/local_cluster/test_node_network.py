"""The machine's side of a node's network, without a node: the link and its containment routes."""

import subprocess
from collections.abc import Iterator

import pytest

from local_cluster.node_network import NodeNetwork
from tests.conftest import held_node_network

pytestmark = pytest.mark.integration


@pytest.fixture
def network() -> Iterator[NodeNetwork]:
    """A network of the test's own: the test deletes its link."""
    with held_node_network() as network:
        yield network


def _route_to(address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "route", "get", address], capture_output=True, text=True, check=False
    )


def test_the_link_gone_leaves_its_addresses_unreachable_not_routed_out(
    network: NodeNetwork,
) -> None:
    """A node's namespace takes the whole veth pair with it when it goes; a client still dialling
    the link's addresses must hear "no route to host", not send them out of the machine."""
    assert f"dev {network.host_link}" in _route_to(network.node_address).stdout
    unreachable = subprocess.run(
        ["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True, check=True
    ).stdout
    for cidr in network.contained_cidrs:
        assert f"unreachable {cidr} metric {network.route_metric}" in unreachable

    subprocess.run(["ip", "link", "del", network.host_link], check=True)

    for address in (network.host_address, network.node_address, network.pod_gateway):
        route = _route_to(address)
        assert route.returncode != 0, route.stdout
        assert "No route to host" in route.stderr
