"""Reading the export's parameters from options and the environment."""

from datetime import UTC, datetime

import pytest

from company_exporter.errors import BadRequestError
from company_exporter.request import parse_parameters
from export_contracts.date_field import DateField

pytestmark = pytest.mark.unit

ENVIRONMENT = {
    "EXPORT_ID": "12",
    "SPACE_ID": "3",
    "RANGE_START": "2024-01-14T23:00:00Z",
    "RANGE_END": "2024-01-15T23:00:00+00:00",
    "EXPORT_BUCKET": "exports",
    "OBJECT_KEY": "exports/3/a.ndjson.gz",
    "UNRELATED": "ignored",
}


def test_reads_the_environment() -> None:
    parameters = parse_parameters([], ENVIRONMENT)

    assert parameters.export_id == 12
    assert parameters.space_id == 3
    assert parameters.range_start == datetime(2024, 1, 14, 23, tzinfo=UTC)
    assert parameters.range_end == datetime(2024, 1, 15, 23, tzinfo=UTC)
    assert (parameters.bucket, parameters.object_key) == ("exports", "exports/3/a.ndjson.gz")


def test_the_date_field_is_created_at_unless_the_environment_or_an_option_names_updated_at() -> (
    None
):
    assert parse_parameters([], ENVIRONMENT).date_field is DateField.CREATED_AT
    updated = {**ENVIRONMENT, "EXPORT_DATE_FIELD": "updated_at"}
    assert parse_parameters([], updated).date_field is DateField.UPDATED_AT
    assert parse_parameters(["--date-field", "updated_at"], ENVIRONMENT).date_field == "updated_at"


def test_another_date_field_is_a_bad_request_naming_the_variable() -> None:
    with pytest.raises(BadRequestError, match=r"EXPORT_DATE_FIELD \(--date-field\): Input should"):
        parse_parameters([], {**ENVIRONMENT, "EXPORT_DATE_FIELD": "deleted_at"})


def test_options_win_over_the_environment() -> None:
    parameters = parse_parameters(["--space-id", "4", "--object-key", "k"], ENVIRONMENT)

    assert (parameters.space_id, parameters.object_key) == (4, "k")


def test_options_alone_are_enough() -> None:
    argv = ["--export-id", "5", "--space-id", "1", "--bucket", "abc", "--object-key", "k"]
    argv += ["--range-start", "2024-01-01T00:00:00Z", "--range-end", "2024-01-02T00:00:00Z"]

    assert parse_parameters(argv, {}).export_id == 5


def test_every_problem_is_named_at_once() -> None:
    environment = {**ENVIRONMENT, "SPACE_ID": "-1", "EXPORT_BUCKET": "x"}
    del environment["RANGE_END"]

    with pytest.raises(BadRequestError) as raised:
        parse_parameters([], environment)

    message = str(raised.value)
    for named in ("SPACE_ID (--space-id)", "EXPORT_BUCKET (--bucket)", "RANGE_END (--range-end)"):
        assert named in message


def test_an_empty_or_backward_range_is_refused() -> None:
    environment = {**ENVIRONMENT, "RANGE_END": ENVIRONMENT["RANGE_START"]}

    with pytest.raises(BadRequestError, match="range_end must be later than range_start"):
        parse_parameters([], environment)


def test_a_bad_option_is_a_bad_request_not_exit_2() -> None:
    with pytest.raises(BadRequestError, match="unrecognized arguments: --nope"):
        parse_parameters(["--nope"], ENVIRONMENT)
