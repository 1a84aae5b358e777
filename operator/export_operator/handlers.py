"""The operator's kopf handlers: thin wrappers over `reconcile.Exports`.

kopf is configured in the startup handler (not at import), so tests and replicas can differ by
environment alone.
"""

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import kopf
from prometheus_client import start_http_server

from export_contracts import resource
from export_contracts.resource import ExportState
from export_operator import metrics
from export_operator.admission import Admitter, JobIndex
from export_operator.cluster import Cluster
from export_operator.jobs import JobView
from export_operator.reconcile import Exports
from export_operator.settings import PRESIGN_SECONDS, OperatorSettings
from export_storage import ObjectStore, s3_client

EXPORTS = (resource.GROUP, resource.VERSION, resource.PLURAL)
# How often each export in flight is checked for what events cannot tell (stuck Pod, lost Job).
# A constant: decorators are read at import, before settings exist.
TICK_SECONDS = 10.0
# The pause between two watches of archived exports (each resumes where the last one ended).
ARCHIVED_WATCH_PAUSE_SECONDS = 2.0


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config = OperatorSettings()
    _configure_kopf(settings, config)
    cluster = Cluster.connect(config.namespace)
    memo["jobs"] = jobs = JobIndex(cluster)
    admitter = Admitter(jobs, config.max_running, config.max_running_per_space)
    files = ObjectStore(s3_client(config.storage()), timedelta(seconds=PRESIGN_SECONDS))
    memo["exports"] = exports = Exports(cluster, files, config, admitter)
    memo["sweepers"] = [
        Sweeper("retention sweep", exports.sweep, config.sweep_seconds),
        Sweeper("archived exports watch", exports.follow_archived, ARCHIVED_WATCH_PAUSE_SECONDS),
    ]
    if config.metrics_port:
        memo["metrics_server"], _thread = start_http_server(config.metrics_port)


def _configure_kopf(settings: kopf.OperatorSettings, config: OperatorSettings) -> None:
    settings.persistence.finalizer = resource.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=resource.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=resource.GROUP, key="last-handled-configuration"
    )
    # Silent watch stalls are a known failure; reconnect well before any proxy cuts the stream.
    settings.watching.server_timeout = 240
    settings.watching.client_timeout = 270
    settings.watching.connect_timeout = 30
    settings.execution.max_workers = 8
    # kopf keeps ~10 KB for every object it watches; archived exports (a day of them: 100,000 or
    # more) stay out of its watch, and a watch of our own keeps a small entry each
    # (`Exports.follow_archived`).
    settings.watching.label_selectors[resource.GROUP, resource.PLURAL] = (
        f"!{resource.ARCHIVED_LABEL}"
    )
    # kopf's warnings and errors about an export (a handler failing, its retries) also become
    # Events on it, for `kubectl describe`; its "handler succeeded" notes stay in the log. (kopf
    # 1.45 posts none of its log messages unless `posting.loggers` is set.)
    settings.posting.loggers = True
    settings.posting.level = logging.WARNING
    # Replicas share a peering object (crds/kopf-peering.yaml; the chart creates the object):
    # only the one with the highest priority acts, the others pause until it goes away.
    settings.peering.name = config.peering_name
    settings.peering.standalone = config.standalone
    settings.peering.mandatory = not config.standalone
    settings.peering.priority = (
        config.priority if config.priority is not None else secrets.randbelow(1_000_000) + 1
    )
    settings.peering.clusterwide = config.namespace is None


class Sweeper:
    """Runs `sweep` every `interval` seconds in a thread of its own until stopped."""

    def __init__(self, name: str, sweep: Callable[[], None], interval: float) -> None:
        self._name = name
        self._sweep = sweep
        self._interval = interval
        self._stopping = threading.Event()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._sweep()
            except Exception:  # the Kubernetes API or S3 down: the next pass retries
                logging.getLogger(__name__).exception(
                    "%s failed; retrying in %.0f s", self._name, self._interval
                )


@kopf.on.cleanup()
def stop_metrics(memo: kopf.Memo, **_: Any) -> None:
    for sweeper in memo.get("sweepers", []):
        sweeper.stop()
    server = memo.get("metrics_server")
    if server is not None:
        server.shutdown()


def _exports(memo: kopf.Memo) -> Exports:
    exports: Exports = memo["exports"]
    return exports


@kopf.on.create(*EXPORTS)
def create_export(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    _exports(memo).start(dict(body), retry)


def _in_flight(status: kopf.Status, **_: Any) -> bool:
    """Finished exports get no timer: their retention is one loop over an index (`Sweeper`)."""
    state = status.get("state")
    return state is None or not ExportState(state).is_final


@kopf.timer(*EXPORTS, interval=TICK_SECONDS, when=_in_flight)
def check_export(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _exports(memo).tick(dict(body))


@kopf.on.delete(*EXPORTS)
def delete_export(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _exports(memo).delete(dict(body))


@kopf.on.event(*EXPORTS)
def observe_export(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    uid = body["metadata"]["uid"]
    if event["type"] == "DELETED":
        metrics.EXPORT_STATES.gone(uid)
        _exports(memo).left_watch(dict(body))
    else:
        metrics.EXPORT_STATES.seen(uid, body.get("status", {}).get("state"))
        _exports(memo).observe(dict(body))


@kopf.on.event("batch", "v1", "jobs", labels={resource.MANAGED_BY_LABEL: resource.MANAGED_BY})
def follow_job(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    jobs: JobIndex = memo["jobs"]
    job: dict[str, Any] = dict(event["object"])
    if event["type"] == "DELETED":
        jobs.gone(job["metadata"]["uid"])
        _exports(memo).job_deleted()
    else:
        jobs.seen(JobView.of(job))
        _exports(memo).job_changed(job)


@kopf.on.event("", "v1", "pods", labels={resource.MANAGED_BY_LABEL: resource.MANAGED_BY})
def follow_exporter_pod(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    if event["type"] != "DELETED":
        _exports(memo).pod_changed(dict(event["object"]))
