"""The image (the repository's Dockerfile) and the programs it runs.

No Docker engine here, so the image is not built; what can be checked is that the Dockerfile is
well-formed for what the chart asks of it, and that each program it and the chart name exists and
starts in the environment the image installs (the same distribution).
"""

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from local_cluster.product import CHART
from tests.chart.conftest import MINIMAL_VALUES, Helm, named, objects_of_kind

pytestmark = pytest.mark.unit

ROOT = CHART.parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Programs without a --help that returns at once (kopf starts operating): loaded, not started here;
# the end-to-end test runs the operator's Pod.
LONG_RUNNING = {"export-operator"}


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _programs_the_chart_runs(helm: Helm) -> set[str]:
    objects = helm.template(MINIMAL_VALUES)
    programs = {
        container["command"][0]
        for deployment in objects_of_kind(objects, "Deployment")
        for container in deployment["spec"]["template"]["spec"].get("initContainers", [])
        + deployment["spec"]["template"]["spec"]["containers"]
    }
    operator = named(objects, "ConfigMap", "release-company-exports-operator")["data"]
    programs.add(json.loads(operator["EXPORT_OPERATOR_EXPORTER_COMMAND"])[0])
    return programs


def test_the_base_is_pinned_to_an_exact_release() -> None:
    (argument,) = [value for keyword, value in _instructions() if keyword == "ARG"]
    assert re.fullmatch(r"PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+", argument)
    assert [value for keyword, value in _instructions() if keyword == "FROM"] == [
        "${PYTHON_IMAGE} AS build",
        "${PYTHON_IMAGE}",
    ]


def test_the_final_stage_runs_as_a_numeric_non_root_user_without_build_tools() -> None:
    final = _final_stage()
    (user,) = [value for keyword, value in final if keyword == "USER"]
    uid, gid = (int(part) for part in user.split(":"))
    assert uid != 0
    assert gid != 0
    copies = [value for keyword, value in final if keyword == "COPY"]
    assert copies == ["--from=build /opt/company-exports /opt/company-exports"]
    commands = " ".join(value for keyword, value in final if keyword == "RUN")
    for tool in ("apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in commands


def test_the_image_installs_every_package_of_the_distribution() -> None:
    sources = {
        value.split()[0]
        for keyword, value in _instructions()
        if keyword == "COPY" and not value.startswith("--from")
    }
    copied = {source for value in sources for source in value.split()}
    for folder in PYPROJECT["tool"]["setuptools"]["package-dir"].values():
        assert folder in copied, f"{folder} is installed by pyproject.toml but not copied"
    for source in copied:
        assert (ROOT / source).exists(), source


def test_dockerignore_lets_through_exactly_what_the_dockerfile_copies() -> None:
    patterns = [line for line in DOCKERIGNORE.read_text().splitlines() if line and line[0] != "#"]
    assert patterns[0] == "*"
    allowed = {line[1:].rstrip("/") for line in patterns if line.startswith("!")}
    copied = {
        source
        for keyword, value in _instructions()
        if keyword == "COPY" and not value.startswith("--from")
        for source in value.split()[:-1]
    }
    assert allowed == copied


@pytest.mark.integration  # starts each program (a second or two each): not a unit test
def test_every_program_the_image_and_the_chart_name_exists_and_starts(helm: Helm) -> None:
    (cmd,) = [json.loads(value) for keyword, value in _final_stage() if keyword == "CMD"]
    programs = _programs_the_chart_runs(helm) | {cmd[0], "export-api-admin"}
    assert programs >= {"export-api", "export-db", "export-operator", "company-exporter"}
    scripts = {entry.name: entry for entry in entry_points(group="console_scripts")}
    bin_dir = Path(sys.executable).parent
    for program in programs:
        assert program in PYPROJECT["project"]["scripts"], f"{program} is no console script"
        assert callable(scripts[program].load())
        assert (bin_dir / program).exists()
    started = {
        program: subprocess.Popen(
            [str(bin_dir / program), "--help"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for program in programs - LONG_RUNNING
    }
    for program, process in started.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert stdout.startswith(f"usage: {program}")
