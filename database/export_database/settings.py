"""Where the database is: one libpq URL from the environment."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """`DATABASE_URL`, a libpq URL such as postgresql://user:password@host:5432/db.

    A SecretStr, because the URL carries the password and settings end up in logs and reprs.
    """

    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr
