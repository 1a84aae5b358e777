"""`export-db` as a person runs it: migrate (twice), create a space, generate companies."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration

EXPORT_DB = Path(sys.executable).parent / "export-db"


def export_db(database_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"]}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [EXPORT_DB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_migrate_create_space_generate(empty_database: str) -> None:
    first = export_db(empty_database, "migrate")
    again = export_db(empty_database, "migrate")
    space = export_db(empty_database, "create-space", "--name", "demo", "--timezone", "Asia/Tokyo")
    space_id = json.loads(space.stdout)["space_id"]
    generated = export_db(
        empty_database, "generate", "--space-id", str(space_id), "--count", "1000", "--seed", "1"
    )

    assert json.loads(first.stdout)["applied"][0] == "001_core"
    assert json.loads(again.stdout) == {"applied": []}
    assert json.loads(generated.stdout)["companies"] == 1000
    with psycopg.connect(empty_database) as conn:
        row = conn.execute(
            "SELECT s.timezone, count(c.id) FROM spaces s JOIN companies c ON c.space_id = s.id"
            " WHERE s.id = %s GROUP BY s.timezone",
            (space_id,),
        ).fetchone()
    assert row == ("Asia/Tokyo", 1000)


def test_python_module_entry_point(empty_database: str) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "export_database", "migrate"],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": empty_database},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["applied"]


def test_missing_database_url_says_what_to_set() -> None:
    process = export_db(None, "migrate")

    assert process.returncode == 64
    assert "set DATABASE_URL" in process.stderr
