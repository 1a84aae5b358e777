import pytest
from pydantic import BaseModel

from export_api.cursors import decode_cursor, encode_cursor
from export_api.errors import InvalidParametersError

pytestmark = pytest.mark.unit


class Position(BaseModel):
    before_id: int


def test_round_trip() -> None:
    cursor = encode_cursor(Position(before_id=42))
    assert "=" not in cursor
    assert decode_cursor(Position, cursor) == Position(before_id=42)


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "eyJ4IjoxfQ", "bm90IGpzb24", "eyJiZWZvcmVfaWQiOiJ4In0"]
)
def test_foreign_cursors_are_a_422(cursor: str) -> None:
    with pytest.raises(InvalidParametersError, match=r"^cursor: not a cursor this API issued"):
        decode_cursor(Position, cursor)
