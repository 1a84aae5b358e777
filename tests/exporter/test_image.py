"""job-image/Dockerfile: what can be checked without a Docker engine (none here)."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "job-image" / "Dockerfile"
# The only dependencies the image installs (see the Dockerfile's requirements step).
IMAGE_DEPENDENCIES = {"pydantic", "pydantic-settings", "psycopg", "boto3", "isal"}


def _final_stage() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    instructions = [tuple(line.split(None, 1)) for line in lines if not line.startswith("#")]
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return [(keyword, value) for keyword, value in instructions[last_from:]]


def test_runs_the_console_script_as_a_numeric_non_root_user() -> None:
    final = dict(_final_stage())
    uid, gid = (int(part) for part in final["USER"].split(":"))
    assert uid != 0
    assert gid != 0
    assert final["ENTRYPOINT"] == '["company-exporter"]'
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["company-exporter"] == "company_exporter.cli:main"
    assert "PYTHONDONTWRITEBYTECODE=1" in final["ENV"]


def test_every_image_dependency_is_pinned_in_pyproject() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", dependency)[0] for dependency in dependencies}
    assert names >= IMAGE_DEPENDENCIES


def test_the_exporter_imports_nothing_the_image_leaves_out() -> None:
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import company_exporter.cli"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    imported = {line.split("|")[-1].strip().split(".")[0] for line in process.stderr.splitlines()}
    for left_out in ("kopf", "kubernetes", "fastapi", "uvicorn", "export_api", "export_operator"):
        assert left_out not in imported
