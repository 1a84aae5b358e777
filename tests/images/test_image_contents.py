"""What each image is: its config (user, entry point, environment) and its files."""

import json
from pathlib import Path

import pytest

from local_cluster.image_build import BuiltImage, image_config, mounted_root
from tests.adbc_driver import not_our_build

pytestmark = pytest.mark.integration

APP_PROGRAMS = ("export-api", "export-operator", "export-db", "export-api-admin", "export-webhooks")
EXPORTER_DEPENDENCIES = (
    "pydantic",
    "pydantic_settings",
    "psycopg",
    "psycopg_binary",
    "boto3",
    "isal",
    "polars",
    "_polars_runtime_32",
    "adbc_driver_manager",
    "adbc_driver_postgresql",
)
# What the API and the operator need and the exporter's image leaves out.
NOT_IN_EXPORTER = ("fastapi", "uvicorn", "kopf", "kubernetes", "prometheus_client")
# pip itself, its console scripts, its wheels (ensurepip's, Debian's python-wheels), setuptools.
INSTALLER_PATTERNS = ("**/pip", "**/pip3*", "**/pip-*", "**/setuptools", "**/setuptools-*")
COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "x86_64-linux-gnu-gcc", "tcc")


def _env(ref: str) -> dict[str, str]:
    env = image_config(ref)["Env"]
    assert isinstance(env, list)
    return dict(str(item).split("=", 1) for item in env)


def _site_packages(root: Path, venv: str) -> Path:
    (site,) = (root / "opt" / venv / "lib").glob("python3*/site-packages")
    return site


@pytest.mark.parametrize(
    ("name", "entrypoint", "cmd", "venv"),
    [
        ("company-exports", None, ["export-api"], "company-exports"),
        ("company-exports-exporter", ["company-exporter"], None, "company-exporter"),
    ],
)
def test_config_runs_the_program_as_a_numeric_non_root_user(
    images: dict[str, BuiltImage],
    name: str,
    entrypoint: list[str] | None,
    cmd: list[str] | None,
    venv: str,
) -> None:
    image = images[name]
    assert image.local_ref == f"localhost/{name}:{image.tag}"
    assert image.tag.startswith("0.1.0-")
    config = image_config(image.local_ref)
    assert config["User"] == "65532:65532"
    assert config.get("Entrypoint") == entrypoint
    assert config.get("Cmd") == cmd
    env = _env(image.local_ref)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].split(":")[0] == f"/opt/{venv}/bin"


@pytest.mark.parametrize("name", ["company-exports", "company-exports-exporter"])
def test_no_installer_no_compiler_no_test_cluster_code(
    images: dict[str, BuiltImage], name: str
) -> None:
    with mounted_root(images[name].local_ref) as root:
        found = [
            str(path.relative_to(root))
            for pattern in INSTALLER_PATTERNS
            for path in root.glob(pattern)
        ]
        assert found == [], "pip or setuptools in the image"
        for folder in ("usr/bin", "usr/local/bin", "bin"):
            for compiler in COMPILERS:
                assert not (root / folder / compiler).exists(), f"/{folder}/{compiler}"
        assert list(root.glob("**/local_cluster")) == []
        assert list(root.glob("opt/*/bin/local-cluster")) == []
        assert not (root / "src").exists()  # the source tree stayed in the wheel stage


def test_app_image_holds_every_program_compiled(app_image: BuiltImage) -> None:
    with mounted_root(app_image.local_ref) as root:
        for program in (*APP_PROGRAMS, "company-exporter"):
            assert (root / "opt/company-exports/bin" / program).is_file(), program
        site = _site_packages(root, "company-exports")
        (dist_info,) = site.glob("company_exports-0.1.0.dist-info")
        origin = json.loads((dist_info / "direct_url.json").read_text())
        assert origin["url"].endswith(".whl")  # installed from the wheel, not from the source
        assert "dir_info" not in origin  # and not editable
        for package in (
            "export_api",
            "export_operator",
            "company_exporter",
            "export_storage",
            "export_database",
            "export_webhooks",
        ):
            sources = list((site / package).rglob("*.py"))
            assert sources, package
            for source in sources:
                compiled = list(
                    (source.parent / "__pycache__").glob(f"{source.stem}.cpython-*.pyc")
                )
                assert compiled, f"{source} has no bytecode"


def test_exporter_image_holds_only_the_exporters_dependencies(exporter_image: BuiltImage) -> None:
    with mounted_root(exporter_image.local_ref) as root:
        assert (root / "opt/company-exporter/bin/company-exporter").is_file()
        site = _site_packages(root, "company-exporter")
        for wanted in EXPORTER_DEPENDENCIES:
            assert (site / wanted).is_dir(), wanted
        for left_out in NOT_IN_EXPORTER:
            assert not (site / left_out).exists(), left_out
        models = {path.name for path in (site / "botocore/data").iterdir() if path.is_dir()}
        assert models == {"s3", "sts"}


@pytest.mark.parametrize(
    ("name", "venv"),
    [("company-exports", "company-exports"), ("company-exports-exporter", "company-exporter")],
)
def test_the_adbc_driver_is_our_optimized_build_with_its_libpq(
    images: dict[str, BuiltImage], name: str, venv: str
) -> None:
    with mounted_root(images[name].local_ref) as root:
        site = _site_packages(root, venv)
        assert not_our_build(site / "adbc_driver_postgresql" / "libadbc_driver_postgresql.so") == []
        assert list(root.glob("usr/lib/*/libpq.so.5")), "libpq5 is not installed"
