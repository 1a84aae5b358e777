"""Which cursors a page gets, whichever way it was read (the routes' tests walk real lists)."""

import base64

import pytest

from export_api.cursors import decode_cursor, encode_cursor
from export_api.pagination import Position, keyset_page

pytestmark = pytest.mark.unit


class Key(Position):
    id: int


def key_of(item: int) -> Key:
    return Key(id=item)


def cursor(item: int, *, forward: bool) -> str:
    return encode_cursor(Key(id=item, points_to_next_items=forward))


def test_a_cursor_issued_before_directions_points_forward() -> None:
    issued = base64.urlsafe_b64encode(b'{"id":7}').decode()
    assert decode_cursor(Key, issued) == Key(id=7, points_to_next_items=True)


def test_the_first_page_has_no_prev() -> None:
    page = keyset_page([1, 2, 3], 2, None, key_of)
    assert (page.items, page.prev_cursor) == ([1, 2], None)
    assert page.next_cursor == cursor(2, forward=True)


def test_a_backward_page_is_put_back_in_order_and_points_both_ways() -> None:
    page = keyset_page([6, 5, 4], 2, Key(id=7, points_to_next_items=False), key_of)
    assert page.items == [5, 6]
    assert page.next_cursor == cursor(6, forward=True)
    assert page.prev_cursor == cursor(5, forward=False)


def test_a_backward_page_that_reaches_the_start_has_no_prev() -> None:
    page = keyset_page([2, 1], 2, Key(id=3, points_to_next_items=False), key_of)
    assert (page.items, page.prev_cursor) == ([1, 2], None)
    assert page.next_cursor == cursor(2, forward=True)


def test_an_empty_page_points_nowhere() -> None:
    page = keyset_page([], 2, Key(id=3), key_of)
    assert (page.items, page.next_cursor, page.prev_cursor) == ([], None, None)
