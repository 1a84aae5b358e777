"""The product on the local stack: the Helm chart installed as users install it, plus a demo space.

`install_product` is the last step of `make up`. `publish` builds the two images (or finds them
by content hash) and pushes them and charts/company-exports to the stack's OCI registry; the chart
is then installed (or upgraded) from there, as a user installs it (`helm upgrade --install RELEASE
oci://.../charts/company-exports --version V`), naming the images by digest and pointing at the
stack's PostgreSQL and S3. The node runs the chart's Pods as containers of those images. It waits
until the API answers through its Service, makes sure a demo space with sample companies exists,
issues a fresh API key for it, adds API_URL and API_KEY to the stack's env file, and prints what
to try next.

Local differences from a cluster, all in `local_values`: one API replica (the machine has two
cores), the API's Service on node port API_NODE_PORT, which clients reach at the node's address,
and webhooks allowed to the machine's address on the node's link, over TLS from the stack's
receiver CA (a development receiver: local_cluster.webhook_receiver).
"""

import json
import logging
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from export_api.admin import issue_key
from export_api.auth import Scope
from export_database.generate import create_space, generate_companies
from local_cluster.binaries import ensure_binaries
from local_cluster.image_build import build_images
from local_cluster.registry import (
    ChartRef,
    RegistryError,
    push_chart,
    push_image,
)

log = logging.getLogger(__name__)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
CHART = REPOSITORY_ROOT / "charts" / "company-exports"
RELEASE = "company-exports"
NAMESPACE = "company-exports"
API_NODE_PORT = 30080
API_READY_TIMEOUT_SECONDS = 180.0

# The demo space: companies spread over January 2024, so the seed's example day has plenty.
DEMO_SPACE_NAME = "Demo space"
DEMO_TIMEZONE = "Europe/Berlin"
DEMO_COMPANIES = 20_000
DEMO_FIRST_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)
DEMO_SPREAD = timedelta(days=31)
DEMO_SEED = 2024


class ProductInstallError(RuntimeError):
    """The chart did not install, or the API did not answer in time."""


@dataclass(frozen=True)
class DemoSpace:
    space_id: int
    companies: int
    api_key: str


def local_values(env: dict[str, str]) -> dict[str, Any]:
    """The chart's values for the local stack: its PostgreSQL, its S3, the API's node port, and
    its webhook receivers' address and CA."""
    return {
        "database": {"url": env["DATABASE_URL"]},
        "s3": {
            "bucket": env["EXPORT_BUCKET"],
            "endpointUrl": env["S3_ENDPOINT_URL"],
            "region": env["AWS_DEFAULT_REGION"],
            "accessKeyId": env["AWS_ACCESS_KEY_ID"],
            "secretAccessKey": env["AWS_SECRET_ACCESS_KEY"],
        },
        "api": {
            "replicas": 1,
            "service": {"type": "NodePort", "nodePort": API_NODE_PORT},
            "settings": {"publicUrl": api_url(env)},
        },
        "webhooks": {
            "allowedNetworks": [f"{env['HOST_ADDRESS']}/32"],
            "caBundle": Path(env["WEBHOOK_CA_BUNDLE"]).read_text(),
        },
    }


def api_url(env: dict[str, str]) -> str:
    """Where clients reach the API of the local stack: its Service's node port."""
    return f"http://{env['NODE_ADDRESS']}:{API_NODE_PORT}"


def helm_install(
    helm: Path,
    kubeconfig: str,
    values: dict[str, Any],
    work_dir: Path,
    chart: ChartRef,
    timeout_seconds: int = 180,
) -> None:
    """`helm upgrade --install` of the chart from its OCI reference (`publish` or `push_chart`
    put it there) into NAMESPACE, waiting until its Pods are ready."""
    values_file = work_dir / "company-exports-values.json"
    _write_private(values_file, json.dumps(values))  # it holds the database password and S3 keys
    command = [
        str(helm), "upgrade", "--install", RELEASE, chart.url, "--version", chart.version,
        "--plain-http", "--namespace", NAMESPACE, "--create-namespace", "--kubeconfig", kubeconfig,
        "--values", str(values_file), "--wait", "--timeout", f"{timeout_seconds}s",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        # helm notes each followed symbolic link (the CRDs); only the rest explains the failure.
        errors = [line for line in completed.stderr.splitlines() if not line.startswith("walk.go")]
        raise ProductInstallError(
            f"helm could not install {chart.url}: {' '.join(errors)}\n"
            "See the Pods' state and logs with `kubectl -n company-exports get pods` and "
            "`kubectl -n company-exports logs POD`; `make down && make up` retries."
        )


@dataclass(frozen=True)
class Published:
    """The chart and the images in a registry, and the values that point the chart at them."""

    chart: ChartRef
    image_values: dict[str, Any]
    # Image name -> `REGISTRY/NAME@sha256:...`, as a Pod names it.
    references: dict[str, str]


def publish(helm: Path, registry: str, work_dir: Path) -> Published:
    """Builds the images (or finds them by content hash), pushes them and the chart to the
    registry at `registry` (HOST:PORT).

    The chart's Pods then name each image by registry, repository and digest, so every Pod runs
    exactly the image pushed, whatever happens to its tag.
    """
    pushed: dict[str, dict[str, str]] = {}
    references: dict[str, str] = {}
    try:
        for image in build_images(REPOSITORY_ROOT, log.info):
            started = time.monotonic()
            reference = push_image(registry, image.local_ref, image.name, image.tag)
            log.info("pushed %s in %.1f s", reference, time.monotonic() - started)
            references[image.name] = reference
            digest = reference.rsplit("@", 1)[1]
            pushed[image.name] = {"repository": image.name, "tag": image.tag, "digest": digest}
        chart = push_chart(helm, CHART, registry, work_dir / "chart-package")
    except RegistryError as error:
        raise ProductInstallError(str(error)) from error
    log.info("pushed the chart to %s, version %s", chart.url, chart.version)
    values = {
        "image": {"registry": registry, **pushed["company-exports"]},
        "exporter": {"image": pushed["company-exports-exporter"]},
    }
    return Published(chart, values, references)


def wait_for_api(api_url: str, timeout: float = API_READY_TIMEOUT_SECONDS) -> None:
    """Returns once GET /readyz answers 200 (database, S3 and Kubernetes reachable)."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api_url}/readyz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(1)
    raise ProductInstallError(
        f"the API at {api_url} was not ready after {timeout:.0f} s ({last_error}); "
        "see `kubectl -n company-exports get pods` and the API Pod's `kubectl logs`"
    )


def ensure_demo_space(database_url: str) -> DemoSpace:
    """The demo space (created with sample companies on the first run) and a new read+write key.

    Keys are stored as hashes only, so each run issues a new one; earlier keys stay valid.
    """
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT id FROM spaces WHERE name = %s ORDER BY id LIMIT 1", (DEMO_SPACE_NAME,)
        ).fetchone()
        space_id = int(row[0]) if row else create_space(conn, DEMO_SPACE_NAME, DEMO_TIMEZONE)
        counted = conn.execute(
            "SELECT count(*) FROM companies WHERE space_id = %s", (space_id,)
        ).fetchone()
        companies = int(counted[0]) if counted else 0
        if companies == 0:
            companies = generate_companies(
                conn,
                space_id,
                DEMO_COMPANIES,
                seed=DEMO_SEED,
                first_instant=DEMO_FIRST_INSTANT,
                spread=DEMO_SPREAD,
            )
            # Exports are sliced and sharded by the planner's estimates, which come from the
            # table's statistics: a bulk load has none until autovacuum's next pass.
            conn.execute("ANALYZE companies")
        _, api_key = issue_key(
            conn, space_id, [Scope.EXPORTS_READ, Scope.EXPORTS_WRITE], name="make up demo"
        )
    return DemoSpace(space_id, companies, api_key)


def update_env_file(env_file: Path, values: dict[str, str]) -> None:
    """Sets `export NAME=value` lines in a shell env file, replacing earlier ones of those names."""
    kept = [
        line
        for line in (env_file.read_text().splitlines() if env_file.exists() else [])
        if not any(line.startswith(f"export {name}=") for name in values)
    ]
    kept += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    _write_private(env_file, "\n".join(kept) + "\n")


def _write_private(path: Path, text: str) -> None:
    """Writes a file only its owner can read, whatever mode an earlier version of it had."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


def walkthrough(
    api_url: str, env_file: Path, demo: DemoSpace, bucket: str, receiver_host: str
) -> str:
    """What to do next, as commands a user can paste."""
    exports = "$API_URL/public-api/v1/companies/exports"
    return f"""
Company Exports is up: the API answers at {api_url} (namespace {NAMESPACE}, release {RELEASE}).
The demo space {demo.space_id} ({DEMO_TIMEZONE}) holds {demo.companies} companies, created in
January 2024.

  source {env_file}    # API_URL, API_KEY (the demo space's key: exports:read,exports:write), ...

Create an export of one day:
  curl -s -X POST "{exports}" -H "Authorization: Bearer $API_KEY" \\
    -H "Content-Type: application/json" \\
    -d '{{"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}}'

Poll it (use the export_id the first call returned) until "status" is "completed":
  curl -s "{exports}/<export_id>" -H "Authorization: Bearer $API_KEY"

The file lands in the local S3 as s3://{bucket}/exports/{demo.space_id}/<uuid>.ndjson.gz;
download it with the download_url of the completed export (valid 15 minutes):
  curl -s "<download_url>" | gunzip | head -3

Follow it from the cluster side:
  kubectl --kubeconfig "$KUBECONFIG" -n {NAMESPACE} get companyexports,jobs,pods

Be told when exports finish instead of polling: start a receiver (it prints each delivery),
then register it for the demo space; the next export that finishes is delivered to it, signed:
  .venv/bin/local-cluster webhook-receiver &
  curl -s -X POST "$API_URL/public-api/v1/webhook-endpoints" -H "Authorization: Bearer $API_KEY" \
    -H "Content-Type: application/json" \
    -d '{{"url": "https://{receiver_host}:8443/hooks/", "events": ["export.completed"]}}'
"""


def install_product(stack_root: Path, env: dict[str, str]) -> dict[str, str]:
    """Pushes the images and the chart to the stack's registry (env REGISTRY), installs the chart
    from there and prepares the demo; returns API_URL, API_KEY.

    Also writes them into the stack's env file (`<stack_root>/stack.env`),
    replacing values from an earlier run, and prints the walk-through on stdout.
    """
    url = api_url(env)
    helm = ensure_binaries().helm
    published = publish(helm, env["REGISTRY"], stack_root)
    log.info("installing %s into namespace %s", published.chart.url, NAMESPACE)
    values = {**local_values(env), **published.image_values}
    helm_install(helm, env["KUBECONFIG"], values, stack_root, chart=published.chart)
    wait_for_api(url)
    demo = ensure_demo_space(env["DATABASE_URL"])
    added = {"API_URL": url, "API_KEY": demo.api_key}
    env_file = stack_root / "stack.env"
    update_env_file(env_file, added)
    sys.stdout.write(walkthrough(url, env_file, demo, env["EXPORT_BUCKET"], env["HOST_ADDRESS"]))
    return added
