"""Opaque pagination cursors: base64url of a small JSON position, as Laravel's cursor paginator has.

A cursor only says where the next page starts; it is validated like any other input, so a
tampered cursor is a 422, never a server error.
"""

import base64
import binascii
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from export_api.errors import InvalidParametersError

P = TypeVar("P", bound=BaseModel)


def encode_cursor(position: BaseModel) -> str:
    # Unset keys are left out: a position names only the sort key it holds.
    raw = position.model_dump_json(exclude_none=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(model: type[P], cursor: str) -> P:
    """The position in a cursor this API issued, or a 422 that says to start over."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return model.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidParametersError(
            "cursor: not a cursor this API issued; start again without a cursor and follow "
            "next_cursor from each page."
        ) from None
