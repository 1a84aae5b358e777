"""The exporter's connection string: DATABASE_URL as given, with the export's options added, as
libpq itself reads it (psycopg's parser is libpq's)."""

from datetime import UTC, datetime

import pytest
from psycopg.conninfo import conninfo_to_dict

from company_exporter.conninfo import export_conninfo
from export_database import literals

OPTIONS = {
    "connect_timeout": "15",
    "application_name": "company-exporter/7",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "25000",
}


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql://exporter:p%40ss%20word@db.internal:6432/exports?sslmode=require",
        "postgres://exporter:secret@db.internal:6432/exports?sslmode=require",
        "host=db.internal port=6432 dbname=exports user=exporter password='p@ss word' "
        "sslmode=require",
    ],
    ids=["uri", "short-uri", "keywords"],
)
def test_the_options_are_added_and_the_url_kept(database_url: str) -> None:
    given = conninfo_to_dict(database_url)

    parsed = conninfo_to_dict(export_conninfo(database_url, 7))

    assert parsed == {**given, **OPTIONS}


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql://db.internal/exports?connect_timeout=300&application_name=mine",
        "host=db.internal dbname=exports connect_timeout=300 application_name=mine",
    ],
)
def test_the_exports_options_override_the_urls(database_url: str) -> None:
    parsed = conninfo_to_dict(export_conninfo(database_url, 7))

    assert parsed["connect_timeout"] == "15"
    assert parsed["application_name"] == "company-exporter/7"


def test_literals_refuse_what_is_not_ours() -> None:
    with pytest.raises(ValueError, match="plain column name"):
        literals.identifier('created_at" OR 1=1 --')
    with pytest.raises(ValueError, match="naive"):
        literals.instant(datetime(2024, 1, 1))  # naive: the point
    assert literals.instant(datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == (
        "'2024-01-01T00:00:00.000005+00:00'::timestamptz"
    )
