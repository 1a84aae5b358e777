"""RBAC: what a stolen service-account token of each component still cannot do.

tests/chart/test_chart_install.py checks each component's own job and the Secrets; these are the
escalation paths around them (roles, bindings, impersonation, tokens, exec, raw Pods, the CRD,
other namespaces), asked of the API server with SubjectAccessReviews, plus real requests with real
tokens where a refused call would be the attack itself.
"""

from collections.abc import Callable, Iterator

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from export_contracts.resource import resource_name
from local_cluster.product import NAMESPACE, RELEASE
from tests.abuse.conftest import EXPORTS, ONE_DAY, Product, Space
from tests.chart.conftest import service_account_client

pytestmark = pytest.mark.e2e

API, OPERATOR, EXPORTER = (f"{RELEASE}-{name}" for name in ("api", "operator", "exporter"))
ACCOUNTS = [API, OPERATOR, EXPORTER]
GROUP = "exports.companies.dev"

# (group, resource, verb, subresource, namespace): refused to every account of ours.
ESCALATIONS = [
    ("rbac.authorization.k8s.io", "roles", "create", "", NAMESPACE),
    ("rbac.authorization.k8s.io", "rolebindings", "create", "", NAMESPACE),
    ("rbac.authorization.k8s.io", "clusterroles", "bind", "", ""),
    ("rbac.authorization.k8s.io", "clusterroles", "escalate", "", ""),
    ("", "serviceaccounts", "impersonate", "", NAMESPACE),
    ("", "users", "impersonate", "", ""),
    ("", "serviceaccounts", "create", "token", NAMESPACE),
    ("", "pods", "create", "exec", NAMESPACE),
    ("", "pods", "create", "", NAMESPACE),
    ("", "configmaps", "update", "", NAMESPACE),
    ("", "nodes", "list", "", ""),
    ("", "namespaces", "delete", "", ""),
    ("apiextensions.k8s.io", "customresourcedefinitions", "update", "", ""),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "create", "", ""),
    (GROUP, "companyexports", "list", "", "default"),
]
# Verbs on CompanyExports beyond each component's part: the API never rewrites an export (the
# spec is written once; its one patch, the archived label, is all an admission policy lets
# through), the operator never creates one (users and the API do; it deletes archived ones).
OVERREACH = [
    (API, "companyexports", "update", ""),
    (API, "companyexports", "update", "status"),
    (API, "companyexports", "patch", "status"),
    (OPERATOR, "companyexports", "create", ""),
    (OPERATOR, "companyexports", "update", ""),
]


@pytest.fixture(scope="module")
def admin(product: Product) -> Iterator[client.ApiClient]:
    api: client.ApiClient = config.new_client_from_config(str(product.kube.kubeconfig))
    yield api
    api.close()


def allowed(
    admin: client.ApiClient,
    account: str,
    group: str,
    resource: str,
    verb: str,
    subresource: str = "",
    namespace: str = NAMESPACE,
) -> bool:
    """What the API server's authorizer answers for the account (as `kubectl auth can-i`)."""
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{NAMESPACE}:{account}",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}",
                    "system:authenticated"],
            resource_attributes=client.V1ResourceAttributes(
                group=group, resource=resource, verb=verb, subresource=subresource or None,
                namespace=namespace or None,
            ),
        )
    )  # fmt: skip
    answer = client.AuthorizationV1Api(admin).create_subject_access_review(review)
    assert answer.status is not None
    return bool(answer.status.allowed)


def test_the_reviews_can_say_yes(admin: client.ApiClient) -> None:
    # Without this, a broken review (wrong user name, say) would pass every "no" below.
    assert allowed(admin, OPERATOR, "batch", "jobs", "create")
    assert allowed(admin, API, GROUP, "companyexports", "create")


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize(
    ("group", "resource", "verb", "subresource", "namespace"),
    ESCALATIONS,
    ids=[
        f"{verb}-{resource}{'-' + sub if sub else ''}" for _, resource, verb, sub, _ in ESCALATIONS
    ],
)
def test_no_component_can_escalate(
    admin: client.ApiClient,
    account: str,
    group: str,
    resource: str,
    verb: str,
    subresource: str,
    namespace: str,
) -> None:
    assert not allowed(admin, account, group, resource, verb, subresource, namespace)


@pytest.mark.parametrize(("account", "resource", "verb", "subresource"), OVERREACH)
def test_no_component_oversteps_its_part_of_an_export(
    admin: client.ApiClient, account: str, resource: str, verb: str, subresource: str
) -> None:
    assert not allowed(admin, account, GROUP, resource, verb, subresource)


def _as(admin: client.ApiClient, account: str) -> client.ApiClient:
    """A client holding a fresh token of the account, as a thief of its Pod's token would."""
    return service_account_client(admin, NAMESPACE, account)


def test_the_operators_token_reads_no_secret_and_starts_no_pod(admin: client.ApiClient) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="stolen-token"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="x", image="busybox")]),
    )
    with _as(admin, OPERATOR) as api:
        core = client.CoreV1Api(api)
        for attempt in (
            lambda: core.list_namespaced_secret(NAMESPACE),
            lambda: core.create_namespaced_pod(NAMESPACE, pod),
            lambda: core.list_secret_for_all_namespaces(),
        ):
            with pytest.raises(ApiException) as refused:
                attempt()
            assert refused.value.status == 403


def test_the_apis_token_cannot_mark_an_export_completed(
    admin: client.ApiClient, product: Product, new_space: Callable[..., Space]
) -> None:
    with product.client(new_space().token) as http:
        created = http.post(EXPORTS, json=ONE_DAY)
    assert created.status_code == 202, created.text
    name = resource_name(created.json()["export_id"])
    forged = {"status": {"state": "Completed", "objectKey": "exports/1/forged.ndjson.gz"}}
    with _as(admin, API) as api, pytest.raises(ApiException) as refused:
        client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            GROUP, "v1alpha1", NAMESPACE, "companyexports", name, forged
        )
    assert refused.value.status == 403
