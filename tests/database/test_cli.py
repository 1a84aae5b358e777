"""`export-db` as a person runs it: migrate (twice), create a space, generate companies. The
program is the app image's (its files, user and environment: local_cluster.image_program)."""

import json
import subprocess
from collections.abc import Callable

import psycopg
import pytest

from local_cluster.image_program import ImageProgram

pytestmark = pytest.mark.integration

# export_db(DATABASE_URL or None, *arguments) -> the finished process
ExportDb = Callable[..., "subprocess.CompletedProcess[str]"]


def _run(
    app: ImageProgram, command: list[str], database_url: str | None
) -> subprocess.CompletedProcess[str]:
    env = dict(app.env)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        app.command(command), env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def export_db(app_program: ImageProgram) -> ExportDb:
    def run(database_url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        return _run(app_program, ["export-db", *args], database_url)

    return run


def test_migrate_create_space_generate(export_db: ExportDb, empty_database: str) -> None:
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


def test_python_module_entry_point(app_program: ImageProgram, empty_database: str) -> None:
    process = _run(app_program, ["python3", "-m", "export_database", "migrate"], empty_database)

    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["applied"]


def test_missing_database_url_says_what_to_set(export_db: ExportDb) -> None:
    process = export_db(None, "migrate")

    assert process.returncode == 64
    assert "set DATABASE_URL" in process.stderr
