"""`make up` says in one message what a machine lacks for a real node, and where to go instead."""

import shutil

import pytest

from local_cluster.node_requirements import (
    NodeRequirementsError,
    check_node_requirements,
    missing_requirements,
)

pytestmark = pytest.mark.unit


def test_this_machine_has_everything() -> None:
    assert missing_requirements() == []


def test_a_machine_without_root_or_ipset_is_told_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = shutil.which
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr("shutil.which", lambda name: None if name == "ipset" else found(name))
    with pytest.raises(NodeRequirementsError) as refused:
        check_node_requirements()
    message = str(refused.value)
    assert "root" in message
    assert "`ipset` (Debian package ipset)" in message
    assert "make system-deps" in message
    assert "pytest --kind" in message
