"""Keys and secrets: stored hashed, never shown, and download URLs that cannot be bent.

Runs last in this folder (file order), after every other test here has driven the product
through successes and errors; its final test then greps every log file and every object the
run left for the API keys, the database password and the S3 secret key.
"""

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import httpx
import psycopg
import pytest
from botocore.config import Config
from kubernetes import client, config

from export_api.auth import Scope
from export_api.keys import hash_secret, parse_key
from export_api.presign import Presigner
from tests.abuse.conftest import (
    EXPORTS,
    ONE_DAY,
    Product,
    Space,
    servers_root,
    wait_for_export,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(product: Product) -> Iterator[client.ApiClient]:
    api: client.ApiClient = config.new_client_from_config(str(product.kube.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def completed(product: Product, new_space: Callable[..., Space]) -> dict[str, Any]:
    """A completed export, created and polled the way a client does."""
    space = new_space()
    with product.client(space.token) as api:
        created = api.post(EXPORTS, json=ONE_DAY)
        assert created.status_code == 202, created.text
        return wait_for_export(api, created.json()["export_id"])


def test_keys_are_stored_only_as_hashes(product: Product) -> None:
    with psycopg.connect(product.database_url) as conn:
        rows = conn.execute("SELECT prefix, key_hash, row_to_json(k)::text FROM api_keys k")
        stored = {prefix: (bytes(digest), text) for prefix, digest, text in rows}
    assert product.issued_keys
    for token in product.issued_keys:
        key = parse_key(token)
        assert key is not None
        digest, row_text = stored[key.prefix]
        assert digest == hash_secret(key.secret)
        assert key.secret not in row_text


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def test_a_tampered_download_url_is_refused(completed: dict[str, Any]) -> None:
    url = completed["download_url"]
    assert httpx.get(url, timeout=30).status_code == 200
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    parts = urlsplit(url)
    other_object = urlunsplit(
        parts._replace(path=parts.path.rsplit("/", 1)[0] + "/other.ndjson.gz")
    )
    for tampered in (
        _with_query(url, **{"X-Amz-Signature": flipped}),
        _with_query(url, **{"X-Amz-Expires": "604800"}),  # a longer life than was signed
        other_object,
        url.split("?")[0],  # unsigned
    ):
        assert httpx.get(tampered, timeout=30).status_code == 403, tampered


def test_an_expired_download_url_is_refused(product: Product, completed: dict[str, Any]) -> None:
    # The API's own signer with a short life, on the same object with the same credentials.
    env = product.kube.env
    s3 = boto3.client(
        "s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )  # fmt: skip
    bucket, key = urlsplit(completed["download_url"]).path.lstrip("/").split("/", 1)
    # X-Amz-Date counts whole seconds, so a URL signed for 3 s is good for 2-3 s from now (for 1 s
    # it could have expired before its first use); 4.5 s later it is over by 1.5 s at least.
    signed = Presigner(s3, timedelta(seconds=3)).presign(bucket, key)
    assert httpx.get(signed.url, timeout=30).status_code == 200
    time.sleep(4.5)
    assert httpx.get(signed.url, timeout=30).status_code == 403


def _drive_error_paths(product: Product, new_space: Callable[..., Space]) -> list[str]:
    """401, 403, 404, 422 and 429 answers, each with a real key at hand; returns their bodies."""
    space = new_space()
    read_only = new_space(scopes=(Scope.EXPORTS_READ,))
    key = parse_key(space.token)
    assert key is not None
    wrong_secret = f"cexp_{key.prefix}_{'A' * 43}"
    product.refused_keys.append(wrong_secret)
    bodies = []
    with product.client(space.token) as api:
        for _ in range(6):  # the sixth is over the create limit: 429
            bodies.append(api.post(EXPORTS, json=ONE_DAY).text)
        bodies.append(api.get(f"{EXPORTS}/999999999").text)
        bodies.append(api.post(EXPORTS, json={"start_date": space.token}).text)
    with product.client(wrong_secret) as api:
        bodies.append(api.get(EXPORTS).text)
    with product.client(read_only.token) as api:
        bodies.append(api.post(EXPORTS, json=ONE_DAY).text)
    return bodies


def test_error_answers_never_echo_a_key(product: Product, new_space: Callable[..., Space]) -> None:
    bodies = _drive_error_paths(product, new_space)
    assert any('"error"' in body for body in bodies)
    for body in bodies:
        for token in product.keys:
            assert token not in body


def _secrets(product: Product) -> dict[str, str]:
    env = product.kube.env
    password = urlsplit(env["DATABASE_URL"]).password
    assert password
    found = {"database password": password, "S3 secret key": env["AWS_SECRET_ACCESS_KEY"]}
    for number, token in enumerate(product.keys):
        key = parse_key(token)
        assert key is not None
        found[f"API key {number}"] = token
        found[f"secret of API key {number}"] = key.secret
    return found


def _log_files(product: Product) -> list[Path]:
    root = servers_root(product.kube)
    pods = root / "kubernetes" / "node" / "pods"
    container_logs = [*pods.glob("*/*.log"), *pods.glob("*/*.termination-log")]
    return [path for path in (root / "logs").rglob("*") if path.is_file()] + container_logs


def _objects(admin: client.ApiClient) -> dict[str, Any]:
    """Every object a user or operator reads, of every namespace (Secrets excluded), as JSON."""
    core, batch, apps = client.CoreV1Api(admin), client.BatchV1Api(admin), client.AppsV1Api(admin)
    listings: dict[str, Callable[..., Any]] = {
        "events": core.list_event_for_all_namespaces,
        "events.k8s.io": client.EventsV1Api(admin).list_event_for_all_namespaces,
        "pods": core.list_pod_for_all_namespaces,
        "configmaps": core.list_config_map_for_all_namespaces,
        "jobs": batch.list_job_for_all_namespaces,
        "deployments": apps.list_deployment_for_all_namespaces,
        "companyexports": partial(
            client.CustomObjectsApi(admin).list_cluster_custom_object,
            "exports.companies.dev", "v1alpha1", "companyexports",
        ),
    }  # fmt: skip
    # Raw JSON: exactly what the server holds, and no client model to choke on it.
    return {
        name: json.loads(list_all(_preload_content=False).data)
        for name, list_all in listings.items()
    }


def test_no_secret_in_any_log_event_status_or_spec(
    product: Product, admin: client.ApiClient
) -> None:
    secrets = _secrets(product)
    files = _log_files(product)
    assert any("api" in path.name for path in files), "no API container log was found"
    objects = _objects(admin)
    assert objects["companyexports"]["items"], "the run left no CompanyExport to inspect"
    # The scan sees what is there: the access key id (not a secret) is in each download URL.
    assert product.kube.env["AWS_ACCESS_KEY_ID"] in json.dumps(objects["companyexports"])
    leaks = []
    for path in files:
        content = path.read_bytes()
        leaks += [
            f"{what} in {path}" for what, value in secrets.items() if value.encode() in content
        ]
    for kind, listing in objects.items():
        text = json.dumps(listing)
        leaks += [f"{what} in {kind}" for what, value in secrets.items() if value in text]
    assert leaks == []
