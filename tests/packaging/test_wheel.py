"""The wheel users install: built from a clean copy of the tree, installed (not editable) into a
virtualenv of its own, where every module imports, every console script answers `--help`, and
the migrations it carries build the schema in a real PostgreSQL."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PART_FOLDERS = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"]
SCRIPTS = sorted(PYPROJECT["project"]["scripts"])


def _run(*command: str | Path, **options: object) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, **options
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return str(done.stdout)


def _clean_copy(target: Path) -> Path:
    """The files a commit of this tree holds (tracked or new, never ignored): no build leftovers."""
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clean_copy(tmp_path_factory.mktemp("tree"))


@pytest.fixture(scope="module")
def wheel(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, tree)
    (built,) = out.glob("company_exports-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel and its dependencies (from pip's cache when warm); the
    `cluster` extra too, since local_cluster ships in the same wheel (the images leave it out)."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheel}[cluster]")
    return venv / "bin"


def _source_modules(tree: Path) -> set[str]:
    """Every module of our packages, as the source tree has them."""
    modules = set()
    for folder in PART_FOLDERS:
        for path in (tree / folder).rglob("*.py"):
            parts = path.relative_to(tree / folder).with_suffix("").parts
            modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_the_wheel_holds_every_module_and_the_migrations(wheel: Path, tree: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {
        ".".join(Path(name).with_suffix("").parts).removesuffix(".__init__")
        for name in names
        if name.endswith(".py")
    }
    migrations = sorted(p.name for p in (tree / "database/export_database/migrations").iterdir())
    assert migrations
    assert shipped == _source_modules(tree)
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".sql")) == migrations


def test_every_module_imports_from_the_installed_wheel(installed: Path, tree: Path) -> None:
    program = """
import importlib, importlib.util, json, pkgutil
found = {}
for top in ("export_api", "export_operator", "company_exporter", "export_contracts",
            "export_storage", "export_database", "export_webhooks", "local_cluster"):
    package = importlib.import_module(top)
    found[top] = package.__file__
    for module in pkgutil.walk_packages(package.__path__, f"{top}."):
        # Importing a __main__ runs the program: finding it is enough.
        if module.name.endswith(".__main__"):
            found[module.name] = importlib.util.find_spec(module.name).origin
        else:
            found[module.name] = importlib.import_module(module.name).__file__
print(json.dumps(found))
"""
    found = json.loads(_run(installed / "python", "-c", program, cwd="/"))
    assert set(found) == _source_modules(tree)
    site = str(installed.parent / "lib")
    assert [name for name, path in found.items() if not path.startswith(site)] == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_console_script_answers_help(installed: Path, script: str) -> None:
    clean_env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    usage = _run(installed / script, "--help", env=clean_env, cwd="/")
    assert usage.startswith(f"usage: {script}")


def test_the_installed_migrations_build_the_schema(installed: Path, empty_database: str) -> None:
    env = {"PATH": f"{installed}:/usr/bin:/bin", "DATABASE_URL": empty_database}
    applied = json.loads(_run(installed / "export-db", "migrate", env=env, cwd="/"))["applied"]
    assert applied == sorted(applied)
    assert len(applied) == len(list((ROOT / "database/export_database/migrations").iterdir()))
    with psycopg.connect(empty_database) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
    assert {"spaces", "api_keys", "companies", "schema_migrations"} <= tables
