"""The OpenAPI document is a contract: `python -m export_api.openapi` rewrites api/openapi.json.

A test compares the committed file with what the app produces, so a change to the API's shape is
always a visible change to that file.
"""

import json
import sys
from typing import Any

from export_api.app import create_app
from export_api.settings import ApiSettings

# Placeholders: building the document opens no connection.
_OFFLINE = {"database_url": "postgresql://api@localhost/exports", "export_bucket": "exports"}


def document() -> dict[str, Any]:
    return create_app(ApiSettings.model_validate(_OFFLINE)).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
