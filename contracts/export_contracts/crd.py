"""Generates the CompanyExport CustomResourceDefinition from the pydantic models in `resource`.

`python -m export_contracts.crd > crds/companyexports.exports.companies.dev.yaml` writes the file;
a test fails when the committed file differs from what this module generates.

pydantic emits JSON Schema 2020-12; the apiserver wants a structural OpenAPI v3 schema. The
conversion inlines `$ref`s, turns `X | None` into plain `X` (an absent field), and drops keys the
apiserver does not know (title, examples, defaults).
"""

import sys
from typing import Any

import yaml
from pydantic import BaseModel

from export_contracts import resource

# JSON Schema keys that mean the same in a CRD's OpenAPI v3 schema.
_KEPT_KEYS = frozenset(
    {
        "type",
        "format",
        "description",
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "required",
        "properties",
        "items",
    }
)


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema node as a structural OpenAPI v3 node."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _structural(merged, defs)
    if "anyOf" in node:
        variants = [v for v in node["anyOf"] if v.get("type") != "null"]
        if len(variants) != 1:
            raise ValueError(f"only `X | None` unions fit a structural schema, not {node['anyOf']}")
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return _structural({**variants[0], **rest}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _structural(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = _structural(value, defs)
        elif key in _KEPT_KEYS or key.startswith("x-kubernetes-"):
            out[key] = value
    if out.get("type") == "integer":
        out.setdefault("format", "int64")
    return out


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a model, as its camelCase wire form."""
    schema = model.model_json_schema(by_alias=True)
    return _structural(schema, schema.get("$defs", {}))


def _printer_columns() -> list[dict[str, Any]]:
    """What `kubectl get cexp` shows; priority 1 columns only with `-o wide`."""
    return [
        {"name": "Space", "type": "integer", "jsonPath": ".spec.spaceId"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Records", "type": "integer", "jsonPath": ".status.records"},
        {"name": "Size", "type": "integer", "jsonPath": ".status.bytes", "format": "int64"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Completed", "type": "date", "jsonPath": ".status.completedAt", "priority": 1},
        {"name": "Job", "type": "string", "jsonPath": ".status.jobName", "priority": 1},
        {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
        {"name": "Estimated", "type": "integer", "jsonPath": ".spec.estimatedRows", "priority": 1},
    ]


def custom_resource_definition() -> dict[str, Any]:
    """The CompanyExport CRD as a dict, ready for `kubectl apply` or the Kubernetes API."""
    spec_schema = openapi_schema(resource.CompanyExportSpec)
    status_schema = openapi_schema(resource.CompanyExportStatus)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{resource.PLURAL}.{resource.GROUP}"},
        "spec": {
            "group": resource.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.KIND,
                "listKind": f"{resource.KIND}List",
                "plural": resource.PLURAL,
                "singular": resource.SINGULAR,
                "shortNames": list(resource.SHORT_NAMES),
                "categories": list(resource.CATEGORIES),
            },
            "versions": [
                {
                    "name": resource.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _printer_columns(),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": "An asynchronous export of one space's companies "
                            "created in a time range, as gzipped NDJSON in S3.",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def render() -> str:
    """The CRD as the YAML document committed in crds/."""
    header = (
        "# Generated by `python -m export_contracts.crd` from the models in export_contracts.\n"
        "# Do not edit: change contracts/export_contracts/resource.py and regenerate.\n"
    )
    return header + yaml.safe_dump(custom_resource_definition(), sort_keys=False, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
