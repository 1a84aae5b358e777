"""The exporter reads through the ADBC PostgreSQL driver compiled from third_party/arrow-adbc."""

import tomllib
from pathlib import Path

import adbc_driver_postgresql

from tests.adbc_driver import not_our_build, sources_version

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_pyproject_pins_the_release_of_the_driver_sources() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert f"adbc-driver-postgresql=={sources_version()}" in dependencies


def test_the_installed_driver_is_our_optimized_build() -> None:
    library = Path(adbc_driver_postgresql._driver_path())
    assert not_our_build(library) == []
