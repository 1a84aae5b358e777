"""Each program runs from its image as a container (containerd + runc), as a Pod would run it:
read-only root, user 65532, against the session's real PostgreSQL, S3 and Kubernetes API server.
"""

import gzip
import hashlib
import json
import subprocess
import time
import uuid
from datetime import UTC
from pathlib import Path

import httpx
import psycopg
import pytest
from kubernetes import config
from psycopg import sql

from export_contracts.exporter import ExporterResult
from export_database.generate import create_space, generate_companies
from local_cluster.image_build import BuiltImage
from local_cluster.postgres import Postgres
from local_cluster.process import free_port
from local_cluster.s3 import S3Server
from tests.cluster_objects import apply_crd, ensure_namespace
from tests.conftest import KubeCluster
from tests.exporter.conftest import database_rows, parse_line, read_export
from tests.images.conftest import Containerd

pytestmark = pytest.mark.integration

KUBECONFIG_IN_CONTAINER = "/etc/company-exports/kubeconfig"
API_NAMESPACE = "image-tests"
# What the wheel's modules are, found inside the image from its own metadata; `__main__` modules
# run their program when imported, so they are left out.
IMPORT_EVERY_MODULE = """
import importlib, importlib.metadata, importlib.util, json, sys
prefixes = tuple(sys.argv[1].split(","))
names = sorted(
    str(f)[:-3].replace("/", ".").removesuffix(".__init__")
    for f in importlib.metadata.files("company-exports")
    if str(f).endswith(".py") and str(f).startswith(prefixes) and not str(f).endswith("__main__.py")
)
for name in names:
    importlib.import_module(name)
has_local_cluster = importlib.util.find_spec("local_cluster") is not None
print(json.dumps({"imported": names, "local_cluster": has_local_cluster}))
"""


@pytest.fixture(scope="session")
def image_database(postgres: Postgres) -> str:
    """A database of its own on the session's PostgreSQL, empty: the image's migrate fills it.

    Not dropped at the end: it goes with the session's PostgreSQL and its data folder, and by
    then the session's node may have taken the link PostgreSQL listens on with it."""
    name = f"images_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return postgres.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def migrated(containerd: Containerd, app_image: BuiltImage, image_database: str) -> str:
    """The schema, applied by `export-db migrate` from the image."""
    run = containerd.run(app_image, ["export-db", "migrate"], env={"DATABASE_URL": image_database})
    assert run.exit_code == 0, run.stderr + run.stdout
    return image_database


def test_containerd_listens_on_its_unix_socket_only(containerd: Containerd) -> None:
    assert containerd.socket.is_socket()
    assert containerd.tcp_listeners() == []


@pytest.mark.parametrize(
    ("name", "packages"),
    [
        (
            "company-exports",
            "export_api,export_operator,company_exporter,export_contracts,export_storage,"
            "export_database",
        ),
        # The exporter's own modules, and through them what it uses of the shared packages.
        ("company-exports-exporter", "company_exporter,export_storage"),
    ],
)
def test_the_wheels_modules_import_in_the_image(
    containerd: Containerd, images: dict[str, BuiltImage], name: str, packages: str
) -> None:
    run = containerd.run(images[name], ["python3", "-c", IMPORT_EVERY_MODULE, packages])
    assert run.exit_code == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["local_cluster"] is False
    for package in packages.split(","):
        assert package in answer["imported"]
    assert len(answer["imported"]) > 10


# The clients the exporter can need from the service models its image keeps: S3's, and STS's for
# web-identity credentials; the other services' are left out.
MAKES_CLIENTS = """
import botocore.session
from botocore.exceptions import UnknownServiceError
session = botocore.session.get_session()
for service in ("s3", "sts"):
    session.create_client(service, region_name="us-east-1")
    print(f"{service}: made")
try:
    session.create_client("dynamodb", region_name="us-east-1")
except UnknownServiceError:
    print("dynamodb: unknown")
"""


def test_the_exporters_botocore_makes_s3_and_sts_clients_only(
    containerd: Containerd, exporter_image: BuiltImage
) -> None:
    run = containerd.run(exporter_image, ["python3", "-c", MAKES_CLIENTS])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines() == ["s3: made", "sts: made", "dynamodb: unknown"]


@pytest.mark.parametrize("name", ["company-exports", "company-exports-exporter"])
def test_the_images_user_has_a_name(
    containerd: Containerd, images: dict[str, BuiltImage], name: str
) -> None:
    probe = "import getpass, os; print(os.getuid(), getpass.getuser())"
    run = containerd.run(images[name], ["python3", "-c", probe])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.split() == ["65532", "nonroot"]


@pytest.mark.parametrize("name", ["company-exports", "company-exports-exporter"])
def test_the_root_filesystem_is_read_only(
    containerd: Containerd, images: dict[str, BuiltImage], name: str
) -> None:
    probe = (
        "import errno, json\n"
        "result = {}\n"
        "for path in ('/probe', '/tmp/probe', '/opt/probe'):\n"
        "    try:\n"
        "        open(path, 'w').close()\n"
        "        result[path] = 'written'\n"
        "    except OSError as error:\n"
        "        result[path] = errno.errorcode[error.errno]\n"
        "import os\n"
        "result['uid'] = [os.getuid(), os.getgid()]\n"
        "print(json.dumps(result))\n"
    )
    run = containerd.run(images[name], ["python3", "-c", probe])
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == {
        "/probe": "EROFS",
        "/tmp/probe": "EROFS",  # /tmp is world-writable: only a read-only mount refuses it
        "/opt/probe": "EROFS",
        "uid": [65532, 65532],
    }


# Runs the image's `company-exporter` command, with a meta-path finder that notes whether Python's
# cyclic garbage collector is on when the exporter's cli module is imported; with no export in
# the environment the command stops at once.
COMMAND_WITH_A_COLLECTOR_PROBE = """
import gc, runpy, shutil, sys

class NotesTheCollector:
    def find_spec(self, name, path, target=None):
        if name == "company_exporter.cli":
            print(f"collector on when cli was imported: {gc.isenabled()}", flush=True)
        return None

sys.meta_path.insert(0, NotesTheCollector())
sys.argv = ["company-exporter"]
runpy.run_path(shutil.which("company-exporter"), run_name="__main__")
"""


def test_company_exporter_loads_the_exporter_with_the_collector_off(
    containerd: Containerd, exporter_image: BuiltImage
) -> None:
    run = containerd.run(
        exporter_image,
        ["python3", "-c", COMMAND_WITH_A_COLLECTOR_PROBE],
        env={"TERMINATION_MESSAGE_PATH": "/dev/null"},
    )

    assert run.stdout.splitlines() == ["collector on when cli was imported: False"]
    # The exporter itself ran: it refused the missing export, as a bad request (never retried).
    assert run.exit_code == 64, run.stderr
    assert "EXPORT_ID" in run.stderr


def test_export_db_migrate_applies_the_schema(migrated: str) -> None:
    with psycopg.connect(migrated) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    assert {"spaces", "api_keys", "companies"} <= tables


def test_export_api_serves_health_and_readiness(
    containerd: Containerd,
    app_image: BuiltImage,
    migrated: str,
    s3: S3Server,
    kube: KubeCluster,
    tmp_path: Path,
) -> None:
    api = config.new_client_from_config(str(kube.kubeconfig))
    apply_crd(api)
    ensure_namespace(api, API_NAMESPACE)
    api.close()
    # The admin's kubeconfig (credentials embedded), readable by the container's user.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kube.kubeconfig.read_text())
    kubeconfig.chmod(0o644)
    tmp_path.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    scratch.chmod(0o1777)
    port = free_port()
    container_id, argv = containerd.run_command(
        app_image,
        ["export-api", "--host", "127.0.0.1", "--port", str(port)],
        env={
            "DATABASE_URL": migrated, "KUBECONFIG": KUBECONFIG_IN_CONTAINER,
            "EXPORT_NAMESPACE": API_NAMESPACE, "EXPORT_BUCKET": s3.bucket,
            "S3_ENDPOINT_URL": s3.endpoint_url, "AWS_DEFAULT_REGION": s3.region,
            "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        },
        # /tmp: the emptyDir the chart mounts there (the Kubernetes client writes the
        # kubeconfig's certificates to temporary files).
        mounts=[(kubeconfig, KUBECONFIG_IN_CONTAINER, "ro"), (scratch, "/tmp", "rw")],
    )  # fmt: skip
    log = tmp_path / "api.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        health = _poll(f"{base}/healthz", process, log)
        assert health.json() == {"status": "ok"}
        ready = _poll(f"{base}/readyz", process, log)
        assert ready.json()["checks"] == {
            "database": "ok", "kubernetes": "ok", "export_cache": "ok"
        }  # fmt: skip
    finally:
        subprocess.run(
            containerd.ctr_command("tasks", "kill", "-s", "SIGTERM", container_id), check=False
        )
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            subprocess.run(
                containerd.ctr_command("tasks", "kill", "-s", "SIGKILL", container_id), check=False
            )
            process.wait(30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, log.read_text()  # JSON log lines, unbuffered


def _poll(url: str, process: "subprocess.Popen[bytes]", log: Path) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} not 200 in 60 s:\n{log.read_text()}"
        time.sleep(0.3)


def test_company_exporter_exports_a_range_to_s3(
    containerd: Containerd, exporter_image: BuiltImage, migrated: str, s3: S3Server, tmp_path: Path
) -> None:
    with psycopg.connect(migrated) as conn:
        space_id = create_space(conn, f"image-test-{uuid.uuid4()}", "UTC")
        generate_companies(conn, space_id, 3000, seed=7)
        first, last = conn.execute(
            "SELECT min(created_at), max(created_at) FROM companies WHERE space_id = %s",
            (space_id,),
        ).fetchone()  # type: ignore[misc]
    # A part of the space's range, so the export must leave rows out on both sides.
    span = last - first
    start, end = first + span / 4, first + span * 3 / 4
    expected = database_rows(migrated, space_id, start, end)
    assert 0 < len(expected) < 3000
    termination = tmp_path / "termination-log"
    termination.touch(mode=0o666)
    termination.chmod(0o666)
    tmp_path.chmod(0o755)
    key = f"exports/{space_id}/{uuid.uuid4()}.ndjson.gz"
    run = containerd.run(
        exporter_image,  # no command: the image's ENTRYPOINT
        env={
            "EXPORT_ID": "7", "SPACE_ID": str(space_id),
            "RANGE_START": start.astimezone(UTC).isoformat(),
            "RANGE_END": end.astimezone(UTC).isoformat(),
            "EXPORT_BUCKET": s3.bucket, "OBJECT_KEY": key,
            "DATABASE_URL": migrated, "S3_ENDPOINT_URL": s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_DEFAULT_REGION": s3.region, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        },
        mounts=[(termination, "/dev/termination-log", "rw")],
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    result = ExporterResult.model_validate_json(run.stdout)
    assert ExporterResult.model_validate_json(termination.read_text()) == result
    assert result.records == len(expected)
    exported = read_export(s3, key)
    assert result.bytes == len(exported.raw)
    assert [parse_line(line) for line in exported.lines] == expected
    assert gzip.decompress(exported.raw).count(b"\n") == len(expected)
    assert hashlib.sha256(exported.raw).hexdigest() == result.sha256
