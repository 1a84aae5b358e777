"""Creating an export: an id from the database's sequence, then the CompanyExport object.

With an Idempotency-Key, the key's row and the new id are written in one transaction that stays
open until the object exists: a concurrent retry with the same key waits on the row, then gets
the same id; if creating the object fails, the transaction rolls back and the key is free again.
If the API dies after creating the object but before the commit, the object (labelled with the
key) is found by the retry, which adopts its id: one export per key, whenever the crash came.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from psycopg import AsyncConnection

from export_api.auth import Principal
from export_api.dates import ResolvedRange, resolve_range
from export_api.errors import InvalidParametersError
from export_api.models import CreateExportRequest
from export_api.services import Services
from export_contracts.date_field import DateField
from export_contracts.resource import CompanyExportSpec, RequestedRange, UtcRange
from export_database.estimates import planned_rows, rows_in_range

log = logging.getLogger(__name__)

_EXPIRE_KEY = """
DELETE FROM api_idempotency_keys
WHERE space_id = %(space)s AND key = %(key)s AND created_at < now() - %(window)s
RETURNING export_id
"""

_CLAIM_KEY = """
INSERT INTO api_idempotency_keys (space_id, key, request_hash, export_id)
VALUES (%(space)s, %(key)s, %(hash)s, nextval('export_ids'))
ON CONFLICT (space_id, key) DO NOTHING
RETURNING export_id
"""

_EARLIER_USE = """
SELECT request_hash, export_id FROM api_idempotency_keys
WHERE space_id = %(space)s AND key = %(key)s
"""


_ADOPT = """
UPDATE api_idempotency_keys SET export_id = %(id)s WHERE space_id = %(space)s AND key = %(key)s
"""


@dataclass(frozen=True)
class Created:
    export_id: int
    replayed: bool  # True: an earlier request with the same Idempotency-Key made this export


def request_hash(body: CreateExportRequest) -> bytes:
    canonical = f"{body.start_date}\n{body.end_date}"
    # The default is left out, so keys used before date_field existed keep their hash.
    if body.date_field is not DateField.CREATED_AT:
        canonical += f"\n{body.date_field}"
    return hashlib.sha256(canonical.encode()).digest()


def export_spec(
    export_id: int,
    principal: Principal,
    body: CreateExportRequest,
    resolved: ResolvedRange,
    idempotency_key: str | None,
    estimated_rows: int | None = None,
) -> CompanyExportSpec:
    return CompanyExportSpec(
        export_id=export_id,
        space_id=principal.space_id,
        requested=RequestedRange(
            start_date=body.start_date, end_date=body.end_date, timezone=principal.timezone
        ),
        range=UtcRange(start=resolved.start, end=resolved.end),
        requested_by=str(principal.key_id),
        idempotency_key=idempotency_key,
        estimated_rows=estimated_rows,
        date_field=None if body.date_field is DateField.CREATED_AT else body.date_field,
    )


async def create_export(
    services: Services, principal: Principal, body: CreateExportRequest, idempotency_key: str | None
) -> Created:
    """Validates the range, allocates an id and creates the object (once per idempotency key)."""
    # Validate before touching the database, so a bad request spends no id and no key.
    resolved = resolve_range(body.start_date, body.end_date, principal.timezone)
    async with services.pool.connection() as conn, conn.transaction():
        if idempotency_key is None:
            export_id = await _next_export_id(conn)
        else:
            claimed = await _claim_key(conn, services, principal, idempotency_key, body)
            if claimed.replayed:
                return claimed
            export_id = claimed.export_id
        estimated_rows = await _estimated_rows(conn, principal.space_id, body.date_field, resolved)
        spec = export_spec(export_id, principal, body, resolved, idempotency_key, estimated_rows)
        created = await anyio.to_thread.run_sync(services.resources.create, spec)
    services.cache.remember(created)
    log.info(
        "export created",
        extra={"export_id": export_id, "space_id": principal.space_id, "key_id": principal.key_id},
    )
    return Created(export_id=export_id, replayed=False)


async def _estimated_rows(
    conn: AsyncConnection[Any], space_id: int, date_field: DateField, resolved: ResolvedRange
) -> int:
    """The planner's guess of the range's rows (no row read): the operator shards large exports."""
    query = rows_in_range(date_field)
    cursor = await conn.execute(query, (space_id, resolved.start, resolved.end))
    row = await cursor.fetchone()
    assert row is not None
    return planned_rows(row[0])


async def _next_export_id(conn: AsyncConnection[Any]) -> int:
    cursor = await conn.execute("SELECT nextval('export_ids')")
    row = await cursor.fetchone()
    assert row is not None
    export_id: int = row[0]
    return export_id


async def _claim_key(
    conn: AsyncConnection[Any],
    services: Services,
    principal: Principal,
    key: str,
    body: CreateExportRequest,
) -> Created:
    params = {
        "space": principal.space_id,
        "key": key,
        "hash": request_hash(body),
        "window": timedelta(hours=services.settings.idempotency_window_hours),
    }
    expired = await (await conn.execute(_EXPIRE_KEY, params)).fetchone()
    row = await (await conn.execute(_CLAIM_KEY, params)).fetchone()
    if row is not None:
        # The export of an expired use of the key is that use's, never one to adopt.
        expired_export = expired[0] if expired else None
        orphan = await _adopt_orphan(conn, services, principal, key, body, expired_export)
        return orphan or Created(row[0], False)
    # The conflicting row was committed by the time ON CONFLICT saw it, so this statement sees it.
    earlier = await (await conn.execute(_EARLIER_USE, params)).fetchone()
    assert earlier is not None
    if bytes(earlier[0]) != params["hash"]:
        raise InvalidParametersError(
            "Idempotency-Key: already used with a different body in the last "
            f"{services.settings.idempotency_window_hours} h; use a new key for a new export."
        )
    return Created(export_id=earlier[1], replayed=True)


async def _adopt_orphan(
    conn: AsyncConnection[Any],
    services: Services,
    principal: Principal,
    key: str,
    body: CreateExportRequest,
    expired_export: int | None,
) -> Created | None:
    """The export an earlier request with this key created before its API died uncommitted.

    The object is created before the key's row commits; a crash in between leaves the object and
    no row. The retry, holding the new row's lock, takes that object's id instead of a second one.
    """
    window = timedelta(hours=services.settings.idempotency_window_hours)
    orphan = await anyio.to_thread.run_sync(
        services.resources.find_by_idempotency_key,
        principal.space_id,
        key,
        datetime.now(UTC) - window,
    )
    if orphan is None or orphan.export_id == expired_export:
        return None
    if (orphan.requested.start_date, orphan.requested.end_date, orphan.column) != (
        body.start_date,
        body.end_date,
        body.date_field,
    ):
        raise InvalidParametersError(
            "Idempotency-Key: already used with a different body; use a new key for a new export."
        )
    await conn.execute(_ADOPT, {"space": principal.space_id, "key": key, "id": orphan.export_id})
    log.info(
        "export adopted after an interrupted create",
        extra={"export_id": orphan.export_id, "space_id": principal.space_id},
    )
    return Created(export_id=orphan.export_id, replayed=True)
