"""Cursor pagination in both directions, as Laravel's cursor paginator does it.

A cursor holds the sort key of the item at one edge of a page and which way it points: forward
(the items after that item, in the list's order) or backward (the items before it). A list reads
a page as a keyset query in the cursor's direction, nearest item first, one item more than a page
to know whether more lie beyond; a backward page is then put back into the list's order. Going
back therefore shows exactly the page that going forward showed, and no query uses OFFSET.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel

from export_api.cursors import encode_cursor

T = TypeVar("T")

CURSOR_DESCRIPTION = "next_cursor or prev_cursor of an earlier page; without it, the first page."


class Position(BaseModel):
    """What every list's cursor holds besides the sort key that the list adds."""

    # Laravel's _pointsToNextItems. Cursors issued before prev_cursor existed lack it: they all
    # pointed forward.
    points_to_next_items: bool = True


def reads_backward(position: Position | None) -> bool:
    """True when the page lies before the cursor's item: query in reverse order."""
    return position is not None and not position.points_to_next_items


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]  # in the list's order, whichever way the page was read
    next_cursor: str | None
    prev_cursor: str | None


def keyset_page(
    rows: Sequence[T], per_page: int, at: Position | None, position_of: Callable[[T], Position]
) -> KeysetPage[T]:
    """The page that a keyset query from `at` returned: up to per_page + 1 rows, nearest first.

    `position_of` gives an item's sort key as a forward position.
    """
    backward = reads_backward(at)
    items = list(rows[:per_page])
    if backward:
        items.reverse()
    # Beyond the page, in the direction read, lie more items only if the query found one more;
    # behind it lies the page the cursor came from, if there was a cursor.
    beyond, behind = len(rows) > per_page, at is not None
    has_next, has_prev = (behind, beyond) if backward else (beyond, behind)
    if not items:  # e.g. all past the cursor deleted: no item to point from, as in Laravel
        return KeysetPage(items, None, None)
    return KeysetPage(
        items,
        next_cursor=_cursor(position_of(items[-1]), forward=True) if has_next else None,
        prev_cursor=_cursor(position_of(items[0]), forward=False) if has_prev else None,
    )


def _cursor(position: Position, *, forward: bool) -> str:
    return encode_cursor(position.model_copy(update={"points_to_next_items": forward}))


def page_envelope(request: Request, per_page: int, page: KeysetPage[Any]) -> dict[str, Any]:
    """Laravel's paginator fields around a page's data; page URLs keep the other parameters."""
    return {
        "path": str(request.url.replace(query="")),
        "per_page": per_page,
        "next_cursor": page.next_cursor,
        "next_page_url": _page_url(request, page.next_cursor),
        "prev_cursor": page.prev_cursor,
        "prev_page_url": _page_url(request, page.prev_cursor),
    }


def _page_url(request: Request, cursor: str | None) -> str | None:
    return str(request.url.include_query_params(cursor=cursor)) if cursor else None
