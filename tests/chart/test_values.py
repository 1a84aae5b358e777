"""values.yaml is documented key by key, and values.schema.json describes exactly its keys."""

import json
from typing import Any

import pytest
import yaml

from local_cluster.product import CHART

pytestmark = pytest.mark.unit

VALUES_FILE = CHART / "values.yaml"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def _closed(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" and schema.get("additionalProperties") is False


def _undocumented(
    node: yaml.MappingNode, schema: dict[str, Any], lines: list[str], path: str, commented: bool
) -> list[str]:
    """Keys under `node` that lack a comment of their own or of an enclosing documented block.

    A key is documented by a "# --" comment block right above it (helm-docs' convention). A
    section (a closed object) without one needs one on each of its keys; a documented block
    (a default such as a Deployment strategy) documents everything inside it. Also fails for a
    key the schema does not describe.
    """
    gaps = []
    for key_node, value_node in node.value:
        key = key_node.value
        child = schema.get("properties", {}).get(key)
        assert child is not None, f"{path}{key} is in values.yaml but not in values.schema.json"
        assert child.get("description"), f"{path}{key} has no description in the schema"
        has_comment = commented or _documented(lines, key_node.start_mark.line)
        if _closed(child) and isinstance(value_node, yaml.MappingNode):
            gaps += _undocumented(value_node, child, lines, f"{path}{key}.", has_comment)
        elif not has_comment:
            gaps.append(f"{path}{key}")
    return gaps


def _documented(lines: list[str], line: int) -> bool:
    """Whether the comment lines right above `line` hold a "# --" line."""
    above = line - 1
    while above >= 0 and lines[above].strip().startswith("#"):
        if lines[above].strip().startswith("# --"):
            return True
        above -= 1
    return False


def test_every_value_has_a_comment_and_a_schema_entry() -> None:
    lines = VALUES_FILE.read_text().splitlines()
    root = yaml.compose(VALUES_FILE.read_text())
    assert isinstance(root, yaml.MappingNode)
    assert _undocumented(root, SCHEMA, lines, "", commented=False) == []


def test_every_schema_property_is_a_value() -> None:
    values = yaml.safe_load(VALUES_FILE.read_text())

    def missing(schema: dict[str, Any], value: dict[str, Any], path: str) -> list[str]:
        gaps = []
        for key, child in schema.get("properties", {}).items():
            if key == "global":
                continue  # helm's own key for subcharts
            if key not in value:
                gaps.append(f"{path}{key}")
            elif _closed(child) and isinstance(value[key], dict):
                gaps += missing(child, value[key], f"{path}{key}.")
        return gaps

    # Only the Recreate strategy's rollingUpdate is absent (it is meaningless there).
    assert missing(SCHEMA, values, "") == ["operator.strategy.rollingUpdate"]
