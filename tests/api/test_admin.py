"""`export-api-admin`, as an operator runs it: create a space, issue a key once, revoke it."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.api.conftest import ApiServer

pytestmark = pytest.mark.integration

ADMIN = str(Path(sys.executable).with_name("export-api-admin"))
EXPORTS = "/public-api/v1/companies/exports"


def admin(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ADMIN, *arguments],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_key_issued_by_the_command_works_until_revoked(api: ApiServer, api_database: str) -> None:
    space = admin(api_database, "create-space", "--name", "Acme", "--timezone", "Europe/Berlin")
    assert space.returncode == 0, space.stderr
    space_id = space.stdout.strip()
    issued = admin(api_database, "issue-key", "--space-id", space_id, "--scopes", "exports:read")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("cexp_")
    assert token not in issued.stderr  # printed once, on stdout only
    key_id = issued.stderr.split()[2].rstrip(";")
    with api.client(token) as http:
        assert http.get(EXPORTS).status_code == 200
        assert http.post(EXPORTS, json={}).status_code == 403  # read scope only
    with psycopg.connect(api_database) as conn:
        row = conn.execute("SELECT last_used_at FROM api_keys WHERE id = %s", (int(key_id),))
        assert row.fetchone() != (None,)  # the key's last use is recorded
    with api.client(token) as http:
        prefix = token.split("_")[1]
        revoked = admin(api_database, "revoke-key", "--prefix", prefix)
        assert revoked.returncode == 0, revoked.stderr
        assert http.get(EXPORTS).status_code == 401
    assert admin(api_database, "revoke-key", "--key-id", key_id).returncode == 1


def test_a_bad_timezone_or_scope_is_refused_with_a_hint(api_database: str) -> None:
    zone = admin(api_database, "create-space", "--name", "x", "--timezone", "Berlin")
    assert zone.returncode == 2
    assert "not an IANA timezone name, e.g. Europe/Berlin" in zone.stderr
    scope = admin(api_database, "issue-key", "--space-id", "1", "--scopes", "exports:admin")
    assert scope.returncode == 2
    assert "scopes are a comma-separated list of: exports:read, exports:write" in scope.stderr


def test_a_subscription_can_be_switched_off(api: ApiServer, api_database: str) -> None:
    space_id = admin(
        api_database, "create-space", "--name", "y", "--timezone", "UTC"
    ).stdout.strip()
    token = admin(api_database, "issue-key", "--space-id", space_id).stdout.strip()
    assert admin(api_database, "deactivate-subscription", "--space-id", space_id).returncode == 0
    with api.client(token) as http:
        assert http.get(EXPORTS).status_code == 403
    assert admin(api_database, "activate-subscription", "--space-id", space_id).returncode == 0
    with api.client(token) as http:
        assert http.get(EXPORTS).status_code == 200
