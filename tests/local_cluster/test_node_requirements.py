"""`make up` says in one message what a machine lacks for a real node, and where to go instead."""

import shutil
import subprocess
from pathlib import Path

import pytest

from local_cluster.node_requirements import (
    NodeRequirementsError,
    check_node_requirements,
    main,
    missing_requirements,
)

REPOSITORY = Path(__file__).resolve().parents[2]

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


def test_make_up_checks_the_machine_before_installing_or_building(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(SystemExit) as refused:
        main()
    message = str(refused.value)
    assert message.startswith("[make] this machine cannot run the local cluster's node")
    assert "root" in message
    assert "pytest --kind" in message


def test_the_first_check_runs_on_the_systems_python_alone() -> None:
    """No virtualenv exists yet when `make up` starts: the check must need nothing but stdlib."""
    checked = subprocess.run(
        # -S: without site-packages, as on a machine where nothing is installed yet
        ["/usr/bin/python3", "-S", "-m", "local_cluster.node_requirements"],
        cwd=REPOSITORY / "local-cluster",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stderr) == (0, "")
    assert "node-check install binaries" in (REPOSITORY / "Makefile").read_text()
