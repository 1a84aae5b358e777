"""The clients a running API holds: built once in the app's lifespan, closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio.to_thread
from psycopg_pool import AsyncConnectionPool

from export_api.archive import ExportArchive
from export_api.archiver import Archiver
from export_api.cache import ExportCache
from export_api.outage import Breaker, RecentKeys, RecentRecords
from export_api.presign import Presigner, s3_client
from export_api.resources import ExportResources, api_client
from export_api.settings import ApiSettings
from export_api.webhook_endpoints import WebhookEndpoints

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# How long startup waits for the first list of exports before serving (readiness says the rest).
_CACHE_SYNC_TIMEOUT_SECONDS = 10.0
# After a failed database call, requests that can answer without it skip it this long.
_DATABASE_COOLDOWN_SECONDS = 5.0


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    pool: AsyncConnectionPool
    resources: ExportResources
    cache: ExportCache
    archive: ExportArchive
    s3: "S3Client"
    presigner: Presigner
    database: Breaker
    recent_keys: RecentKeys
    recent_records: RecentRecords
    webhook_endpoints: WebhookEndpoints


@asynccontextmanager
async def running_services(settings: ApiSettings) -> AsyncIterator[Services]:
    """Opens the database pool, the Kubernetes clients, the export cache and the S3 client."""
    kube_api = api_client(settings.kubeconfig)
    # The watch holds a connection for minutes: give it a client of its own.
    watch_api = api_client(settings.kubeconfig)
    recent_records = RecentRecords()
    # What leaves the cache for the archive stays answerable here while PostgreSQL blips.
    cache = ExportCache(
        watch_api,
        settings.export_namespace,
        settings.watch_timeout_seconds,
        archived=recent_records.remember,
    )
    s3 = s3_client(settings)
    pool = AsyncConnectionPool(
        str(settings.database_url),
        min_size=settings.database_pool_min,
        max_size=settings.database_pool_max,
        kwargs={"autocommit": True, "connect_timeout": 5},
        timeout=settings.database_timeout_seconds,
        open=False,
    )
    await pool.open()
    cache.start()
    services = Services(
        settings=settings,
        pool=pool,
        resources=ExportResources(kube_api, settings.export_namespace),
        cache=cache,
        archive=ExportArchive(pool, settings.public_url),
        s3=s3,
        presigner=Presigner(s3, timedelta(seconds=settings.download_url_lifetime_seconds)),
        database=Breaker("database", _DATABASE_COOLDOWN_SECONDS),
        recent_keys=RecentKeys(timedelta(seconds=settings.outage_key_ttl_seconds)),
        recent_records=recent_records,
        webhook_endpoints=WebhookEndpoints(pool, settings.webhook_endpoints_per_space),
    )
    archiver = Archiver(
        cache,
        services.archive,
        services.resources,
        services.database,
        history=timedelta(days=settings.history_days),
        interval=settings.archive_interval_seconds,
    )
    archiving = asyncio.create_task(archiver.run(), name="archiver")
    try:
        await anyio.to_thread.run_sync(cache.wait_synced, _CACHE_SYNC_TIMEOUT_SECONDS)
        yield services
    finally:
        archiving.cancel()
        cache.stop()
        await pool.close()
        kube_api.close()
        watch_api.close()
