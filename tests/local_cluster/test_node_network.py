"""The machine's side of a node's network, without a node: the link and its containment routes."""

import subprocess
from collections.abc import Iterator

import pytest

from local_cluster.node_network import NodeNetwork, create_node_network, remove_node_network
from tests.conftest import held_node_network

pytestmark = pytest.mark.integration


@pytest.fixture
def network() -> Iterator[NodeNetwork]:
    """A network of the test's own: the test deletes its link."""
    with held_node_network() as network:
        yield network


def _unreachable_routes() -> str:
    return subprocess.run(
        ["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True, check=True
    ).stdout


def _holds_containment_routes(network: NodeNetwork) -> list[bool]:
    routes = _unreachable_routes()
    return [
        f"unreachable {cidr} metric {network.route_metric}" in routes
        for cidr in network.contained_cidrs
    ]


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
    assert all(_holds_containment_routes(network))

    subprocess.run(["ip", "link", "del", network.host_link], check=True)

    for address in (network.host_address, network.node_address, network.pod_gateway):
        route = _route_to(address)
        assert route.returncode != 0, route.stdout
        assert "No route to host" in route.stderr


def test_a_slot_whose_link_went_is_taken_over_with_its_routes(network: NodeNetwork) -> None:
    """A run killed before its teardown (or whose node's namespace went) leaves its unreachable
    routes without their link: the next cluster takes the slot and the routes over, and the first
    holder's late teardown leaves the new holder's containment alone."""
    subprocess.run(["ip", "link", "del", network.host_link], check=True)
    successor = create_node_network(preferred=network.slot)
    try:
        assert successor.slot == network.slot
        assert all(_holds_containment_routes(successor))
        remove_node_network(network)
        assert all(_holds_containment_routes(successor))
    finally:
        remove_node_network(successor)
    assert not any(_holds_containment_routes(successor))
