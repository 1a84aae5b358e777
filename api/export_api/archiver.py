"""The hand-over of finished exports from the cluster to PostgreSQL.

For each finished export in the cache: write its row (`ExportArchive.store`, a no-op when the row
exists), then label its object archived. Only labelled objects are deleted by the operator, so an
object never goes before its row is committed: if this replica dies between the two steps, the
object stays unlabelled and the next pass (here or in another replica) writes nothing new and
labels it. Every replica runs this loop; running it twice is harmless.
"""

import asyncio
import logging
import time
from datetime import timedelta

import anyio.to_thread

from export_api.archive import ExportArchive
from export_api.cache import ExportCache
from export_api.outage import Breaker
from export_api.resources import ExportResources

log = logging.getLogger(__name__)

# How often the history window's purge runs (every replica; the DELETE is idempotent).
_PURGE_INTERVAL_SECONDS = 600.0


class Archiver:
    def __init__(
        self,
        cache: ExportCache,
        archive: ExportArchive,
        resources: ExportResources,
        database: Breaker,
        history: timedelta,
        interval: float,
    ) -> None:
        self._cache = cache
        self._archive = archive
        self._resources = resources
        self._database = database
        self._history = history
        self._interval = interval
        self._purged_at = float("-inf")  # the first pass purges, however young the machine

    async def run(self) -> None:
        """Archives and purges until cancelled; failures wait for the next pass."""
        while True:
            try:
                await self.archive_finished()
                await self._purge_when_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # PostgreSQL or the API server down: retry next pass
                log.warning(
                    "could not archive finished exports; retrying (check PostgreSQL and the "
                    "Kubernetes API)",
                    extra={"error": str(error)},
                )
            await asyncio.sleep(self._interval)

    async def archive_finished(self) -> int:
        """One pass over the cache's finished exports; returns how many it handed over."""
        handed_over = 0
        for record in self._cache.finished():
            if record.deleting:
                continue  # its DELETE wrote the row (marked deleted) already
            try:
                await self._archive.store(record)
            except Exception:
                self._database.failed()
                raise
            self._database.succeeded()
            await anyio.to_thread.run_sync(self._resources.label_archived, record.export_id)
            self._cache.handed_over(record.export_id)
            handed_over += 1
            log.info(
                "export archived",
                extra={"export_id": record.export_id, "space_id": record.space_id},
            )
        return handed_over

    async def _purge_when_due(self) -> None:
        if time.monotonic() - self._purged_at < _PURGE_INTERVAL_SECONDS:
            return
        purged = await self._archive.purge(self._history)
        self._purged_at = time.monotonic()
        if purged:
            log.info("purged archived exports past the history window", extra={"rows": purged})
