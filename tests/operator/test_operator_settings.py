"""The operator's settings: environment names, validation, and the README that documents them."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from export_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit

README = Path(__file__).parents[2] / "operator" / "README.md"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_BUCKET", "exports")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("EXPORT_OPERATOR_MAX_RUNNING", "8")
    monkeypatch.setenv("EXPORT_OPERATOR_EXPORTER_COMMAND", '["python", "/x.py"]')
    monkeypatch.setenv("EXPORT_OPERATOR_EXPORTER_ENV", '{"EXPORT_SLICE_ROWS": "50000"}')
    settings = OperatorSettings()
    assert (settings.bucket, settings.s3_endpoint_url) == ("exports", "http://127.0.0.1:9000")
    assert (settings.max_running, settings.max_running_per_space) == (8, 5)
    assert (settings.shard_rows, settings.max_shards) == (5_000_000, 4)
    assert settings.exporter_command == ["python", "/x.py"]
    assert settings.retention_seconds == 86400
    assert settings.exporter_env == {"EXPORT_SLICE_ROWS": "50000"}


def test_per_space_cap_cannot_exceed_the_cluster_cap() -> None:
    with pytest.raises(ValidationError, match="MAX_RUNNING_PER_SPACE must not exceed"):
        OperatorSettings(bucket="b", max_running=2, max_running_per_space=3)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text()
    for name in OperatorSettings.model_fields:
        variable = f"EXPORT_OPERATOR_{name.upper()}"
        assert f"`{variable}`" in readme, f"operator/README.md does not document {variable}"
