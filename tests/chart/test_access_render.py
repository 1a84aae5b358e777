"""The chart's access rules as helm renders them: who may read exports (their status holds a live
download URL), and the admission policy that holds the operator's token to export Jobs.

tests/chart/test_chart_access.py runs both on the cluster; these check the rendered objects and
that the policy's values follow the chart's.
"""

import json
from typing import Any

import pytest

from tests.chart.conftest import CI_VALUES, MINIMAL_VALUES, Helm, named, objects_of_kind

pytestmark = pytest.mark.unit

PRODUCTION_VALUES = CI_VALUES / "production-values.yaml"
PREFIX = "release-company-exports"
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
POLICY = f"{PREFIX}-operator-exports-jobs"
EXPORTS_GROUP = "exports.companies.dev"


def _aggregated_into(role: dict[str, Any]) -> set[str]:
    labels = role["metadata"]["labels"]
    return {key.removeprefix(AGGREGATE) for key, value in labels.items()
            if key.startswith(AGGREGATE) and value == "true"}  # fmt: skip


def test_reading_exports_is_aggregated_into_edit_and_admin_but_never_view(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES)
    view = named(objects, "ClusterRole", f"{PREFIX}-view")
    assert view["rules"] == [
        {
            "apiGroups": [EXPORTS_GROUP],
            "resources": ["companyexports", "companyexports/status"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    assert _aggregated_into(view) == {"edit", "admin"}
    # No role of the chart that touches exports folds into the built-in view role.
    for role in objects_of_kind(objects, "ClusterRole"):
        if any(EXPORTS_GROUP in rule["apiGroups"] for rule in role["rules"]):
            assert "view" not in _aggregated_into(role), role["metadata"]["name"]
    assert _aggregated_into(named(objects, "ClusterRole", f"{PREFIX}-edit")) == {"edit", "admin"}


def test_the_aggregated_roles_can_be_left_out(helm: Helm) -> None:
    objects = helm.template(MINIMAL_VALUES, settings=("rbac.aggregateClusterRoles=false",))
    assert not [role for role in objects_of_kind(objects, "ClusterRole") if _aggregated_into(role)]


def _cel_value(policy: dict[str, Any], variable: str) -> Any:
    """A policy variable that the chart writes as a literal (JSON is valid CEL for these)."""
    (expression,) = [v["expression"] for v in policy["spec"]["variables"] if v["name"] == variable]
    return json.loads(expression)


@pytest.mark.parametrize("values", [MINIMAL_VALUES, PRODUCTION_VALUES], ids=lambda p: p.stem)
def test_the_job_policy_holds_exactly_what_the_operator_puts_into_its_jobs(
    helm: Helm, values: Any
) -> None:
    objects = helm.template(values)
    policy = named(objects, "ValidatingAdmissionPolicy", POLICY)
    operator = named(objects, "ConfigMap", f"{PREFIX}-operator")["data"]
    assert _cel_value(policy, "image") == operator["EXPORT_OPERATOR_EXPORTER_IMAGE"]
    assert _cel_value(policy, "command") == json.loads(operator["EXPORT_OPERATOR_EXPORTER_COMMAND"])
    assert _cel_value(policy, "serviceAccount") == operator["EXPORT_OPERATOR_SERVICE_ACCOUNT_NAME"]
    secrets = [
        operator["EXPORT_OPERATOR_DATABASE_SECRET_NAME"],
        operator["EXPORT_OPERATOR_S3_SECRET_NAME"],
    ]
    assert _cel_value(policy, "secrets") == secrets
    assert _cel_value(policy, "secretEnv")["DATABASE_URL"] == [
        operator["EXPORT_OPERATOR_DATABASE_SECRET_NAME"],
        operator["EXPORT_OPERATOR_DATABASE_SECRET_KEY"],
    ]
    (condition,) = policy["spec"]["matchConditions"]
    operator_user = f"system:serviceaccount:exports:{PREFIX}-operator"
    assert condition["expression"] == f"request.userInfo.username == {json.dumps(operator_user)}"
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules == [
        {
            "apiGroups": ["batch"],
            "apiVersions": ["v1"],
            "resources": ["jobs"],
            "operations": ["CREATE", "UPDATE"],
        }
    ]
    assert policy["spec"]["failurePolicy"] == "Fail"
    # Every rule says what it refused: a message, or an expression that builds one.
    for validation in policy["spec"]["validations"]:
        assert validation.get("message", validation.get("messageExpression", "")).startswith(
            ("refused", "'refused")
        ), validation["expression"]

    binding = named(objects, "ValidatingAdmissionPolicyBinding", POLICY)
    assert binding["spec"]["policyName"] == POLICY
    assert binding["spec"]["validationActions"] == ["Deny"]
    selector = binding["spec"]["matchResources"]["namespaceSelector"]
    assert selector == {"matchLabels": {"kubernetes.io/metadata.name": "exports"}}


def test_the_job_policy_pins_the_bucket_endpoint_and_exporter_settings(helm: Helm) -> None:
    objects = helm.template(
        MINIMAL_VALUES,
        settings=("s3.endpointUrl=http://s3.example:8333",),
        extra=("--set-string", "exporter.settings.EXPORT_SLICE_ROWS=5000"),
    )
    policy = named(objects, "ValidatingAdmissionPolicy", POLICY)
    assert _cel_value(policy, "pinnedEnv") == {
        "EXPORT_BUCKET": "company-exports",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_ENDPOINT_URL": "http://s3.example:8333",
        "EXPORT_SLICE_ROWS": "5000",
    }
    names = _cel_value(policy, "envNames")
    assert {"S3_ENDPOINT_URL", "EXPORT_SLICE_ROWS", "DATABASE_URL", "OBJECT_KEY"} <= set(names)
    # Without an endpoint the exporter talks to AWS, and a Job may not name another one.
    default = named(helm.template(MINIMAL_VALUES), "ValidatingAdmissionPolicy", POLICY)
    assert "S3_ENDPOINT_URL" not in _cel_value(default, "envNames")
    assert "S3_ENDPOINT_URL" not in _cel_value(default, "pinnedEnv")


JOB_POLICY = f"{PREFIX}-operator-exports-jobs"
EXPORT_POLICY = f"{PREFIX}-api-exports-exports"


def _policy_names(objects: list[dict[str, Any]], kind: str) -> list[str]:
    return sorted(obj["metadata"]["name"] for obj in objects_of_kind(objects, kind))


def test_the_api_patch_policy_lets_through_only_the_archived_label(helm: Helm) -> None:
    on = helm.template(MINIMAL_VALUES)
    policy = named(on, "ValidatingAdmissionPolicy", EXPORT_POLICY)
    assert policy["spec"]["matchConstraints"]["resourceRules"][0]["resources"] == ["companyexports"]
    assert f"{PREFIX}-api" in policy["spec"]["matchConditions"][0]["expression"]
    off = helm.template(MINIMAL_VALUES, settings=("api.exportPatchPolicy.enabled=false",))
    assert _policy_names(off, "ValidatingAdmissionPolicy") == [JOB_POLICY]


def test_the_job_policy_is_on_by_default_and_can_be_switched_off(helm: Helm) -> None:
    kinds = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
    on = helm.template(MINIMAL_VALUES)
    assert [_policy_names(on, kind) for kind in kinds] == [[EXPORT_POLICY, JOB_POLICY]] * 2
    off = helm.template(MINIMAL_VALUES, settings=("operator.jobAdmissionPolicy.enabled=false",))
    assert [_policy_names(off, kind) for kind in kinds] == [[EXPORT_POLICY]] * 2
    # The operator itself is the same either way: the policy only narrows its requests.
    assert named(off, "ConfigMap", f"{PREFIX}-operator") == named(
        on, "ConfigMap", f"{PREFIX}-operator"
    )
