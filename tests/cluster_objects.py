"""Objects the tests put into the session's cluster before the product's programs start."""

import time

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from export_contracts.crd import custom_resource_definition


def apply_crd(api: client.ApiClient) -> None:
    """The CompanyExport CRD, created if missing; returns once the apiserver serves it."""
    extensions = client.ApiextensionsV1Api(api)
    crd = custom_resource_definition()
    try:
        extensions.create_custom_resource_definition(crd)
    except ApiException as error:
        if error.status != 409:
            raise
    name = crd["metadata"]["name"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise TimeoutError(f"CRD {name} not established within 30 s")


def ensure_namespace(api: client.ApiClient, name: str) -> None:
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    except ApiException as error:
        if error.status != 409:
            raise
