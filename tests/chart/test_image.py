"""The root Dockerfile as the chart needs it: checked without building (tests/images builds both
images and runs each program from them in containers).
"""

import json
import re
import tomllib

import pytest

from local_cluster.product import CHART
from tests.chart.conftest import MINIMAL_VALUES, Helm, named, objects_of_kind

pytestmark = pytest.mark.unit

ROOT = CHART.parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The programs the app image holds (tests/images checks them in the built image).
APP_IMAGE_PROGRAMS = {
    "export-api",
    "export-operator",
    "export-db",
    "export-api-admin",
    "export-webhooks",
    "company-exporter",
}


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_default_base_is_pinned_to_an_exact_release() -> None:
    (argument,) = [value for keyword, value in _instructions() if keyword == "ARG"]
    assert re.fullmatch(r"BASE_IMAGE=python:\d+\.\d+\.\d+-slim-\w+", argument)


def test_one_target_per_image() -> None:
    stages = [value.split()[-1] for keyword, value in _instructions() if keyword == "FROM"]
    assert {"wheel", "app", "exporter"} <= set(stages)


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
    for source in copied:
        assert (ROOT / source).exists(), source
    where = set(PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"])
    copied_folders = {source.split("/")[0] for source in copied}
    # The local cluster is test tooling: it stays out of the images (and out of their hash).
    assert "local-cluster" not in copied_folders
    assert where - {"local-cluster"} <= copied_folders, "a product package folder is not copied"


def test_every_program_the_chart_runs_is_in_the_app_image(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES)
    programs = {
        container["command"][0]
        for deployment in objects_of_kind(objects, "Deployment")
        for container in deployment["spec"]["template"]["spec"].get("initContainers", [])
        + deployment["spec"]["template"]["spec"]["containers"]
    }
    operator = named(objects, "ConfigMap", "release-company-exports-operator")["data"]
    programs.add(json.loads(operator["EXPORT_OPERATOR_EXPORTER_COMMAND"])[0])
    assert programs <= APP_IMAGE_PROGRAMS
    assert programs >= {
        "export-api", "export-db", "export-operator", "export-webhooks", "company-exporter"
    }  # fmt: skip
    for program in APP_IMAGE_PROGRAMS:
        assert program in PYPROJECT["project"]["scripts"], f"{program} is no console script"
