"""What the operator does for an export: start its Job, follow it, record the outcome, clean up.

Every step is idempotent and safe to repeat after a restart: the Job has the export's name (a
second create finds the first), status writes are conditional on the object's resourceVersion and
only ever move the life cycle forward (`status.allowed`), and Events and metrics are emitted only by
the write that made a transition, or by a later look at a status whose Event is missing
(`announcements`).
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from botocore.exceptions import BotoCoreError, ClientError
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from export_contracts.resource import (
    CompanyExportSpec,
    CompanyExportStatus,
    ExportReason,
    ExportState,
)
from export_operator import metrics, status
from export_operator.admission import Admitter
from export_operator.announcements import Announcement, Announcer
from export_operator.cluster import Cluster, ConflictError, WatchCursor, said
from export_operator.jobs import JobPhase, JobView, Owner, job_manifest, object_key, owner_name
from export_operator.pods import (
    cannot_start,
    completion_index,
    exporter_result,
    job_name,
    last_failure,
)
from export_operator.retention import FinishedExports
from export_operator.settings import OperatorSettings
from export_storage import ObjectStore

logger = logging.getLogger(__name__)

# A status write that keeps meeting a newer object gives up after this many reads.
STATUS_WRITE_ATTEMPTS = 5
# The longest wait between two attempts to start an export (create its Job).
LAST_RETRY_SECONDS = 60


def _failed_pod(job: JobView) -> str:
    """Who failed, as a person reads it: the exporter, or a shard or coordinator of one."""
    if not job.failed_indexes:
        return "the exporter"
    first = min(job.failed_indexes)
    return "the coordinator (Pod 0)" if first == 0 else f"shard {first}"


def _now() -> datetime:
    """Whole seconds, as Kubernetes writes its own times (a Job's startTime, say)."""
    return datetime.now(UTC).replace(microsecond=0)


def retry_delay(retry: int) -> float:
    """Seconds before the `retry`-th retry (0 for the first) of an export's start: 1, 2, 4 ... up
    to 60. kopf's own 60 s from the first failure would hold an export back a minute for a blip
    (an apiserver restart; an upgrade's moment when the old replica's Jobs are refused)."""
    return float(min(2**retry, LAST_RETRY_SECONDS))


# The API refused a call, or could not be reached.
_API_ERRORS = (ApiException, HTTPError)
_JOB_CHECKS = (
    "the namespace's ResourceQuotas, the Jobs' admission policy and the operator's permission to "
    "create Jobs"
)
_QUEUE_CHECKS = (
    "the API server's health and the operator's permission to write exports' status and Jobs"
)


def _start_retried(
    error: ApiException | HTTPError, retry: int, doing: str, checks: str
) -> kopf.TemporaryError:
    """The failure of a step of an export's start, retried after `retry_delay`: what failed, the
    API's answer, when it is tried again and what to check."""
    delay = retry_delay(retry)
    answer = said(error) if isinstance(error, ApiException) else str(error)
    return kopf.TemporaryError(
        f"could not {doing} ({answer}); retrying in {delay:.0f} s. If this lasts, check {checks}",
        delay=delay,
    )


@dataclass(frozen=True)
class Export:
    """One CompanyExport as read from the apiserver."""

    body: dict[str, Any]

    @property
    def owner(self) -> Owner:
        meta = self.body["metadata"]
        return Owner(namespace=meta["namespace"], name=meta["name"], uid=meta["uid"])

    @property
    def spec(self) -> CompanyExportSpec:
        return CompanyExportSpec.model_validate(self.body["spec"])

    @property
    def status(self) -> CompanyExportStatus:
        return CompanyExportStatus.model_validate(self.body.get("status") or {})

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.body["metadata"]["creationTimestamp"])

    @property
    def job_name(self) -> str:
        return self.status.job_name or self.owner.name


class Exports:
    def __init__(
        self,
        cluster: Cluster,
        files: ObjectStore,
        settings: OperatorSettings,
        admitter: Admitter,
    ) -> None:
        self._cluster = cluster
        self._files = files
        self._settings = settings
        self._admitter = admitter
        self._announcer = Announcer(cluster)
        self._archived_cursor = WatchCursor()
        # Archived exports being deleted whose Job was still stopping: retried by `sweep`.
        self._unfinalized: dict[str, dict[str, Any]] = {}
        self.finished = FinishedExports(
            timedelta(seconds=settings.retention_seconds),
            timedelta(seconds=settings.delete_grace_seconds),
        )

    def observe(self, body: dict[str, Any]) -> None:
        """Any watch event of an export: announce its state if that has not happened yet."""
        self._announcer.observe(body, _now())
        self.finished.observe(body)

    # --- a new export ---------------------------------------------------------------------------

    def start(self, body: dict[str, Any], retry: int) -> None:
        """Creates the export's Job, suspended, and records Queued; then asks for admission.
        `retry` counts the earlier attempts that failed (kopf's count)."""
        export = Export(body)
        if export.status.state is not None:
            return
        spec = export.spec
        key = object_key(spec.space_id, str(uuid.uuid4()))
        manifest = job_manifest(export.owner, spec, key, self._settings)
        try:
            job = JobView.of(self._cluster.create_job(manifest))
        except _API_ERRORS as error:
            raise _start_retried(error, retry, "create the export's Job", _JOB_CHECKS) from error
        if job.owner_uid != export.owner.uid:
            raise kopf.TemporaryError(
                f"Job {job.name} of an earlier export with this name is still being deleted",
                delay=5,
            )
        # After a restart the Job may be the one created before: its object key is the one to keep.
        key = job.object_key or key
        try:
            self._transition(
                export, status.queued(job.name, self._settings.bucket, key, job.created_at)
            )
            self._admitter.request()
        except _API_ERRORS as error:
            raise _start_retried(error, retry, "queue the export", _QUEUE_CHECKS) from error

    # --- following the Job ------------------------------------------------------------------------

    def job_changed(self, job: dict[str, Any]) -> None:
        """A Job event: move its export forward, and admit more Jobs when a slot may have freed."""
        view = JobView.of(job)
        export = self._export_of(job, view)
        if export is not None:
            self._follow(export, view)
        if view.phase is not JobPhase.RUNNING or view.deleting:
            self._admitter.request()

    def pod_changed(self, pod: dict[str, Any]) -> None:
        """An exporter Pod's event: its export completes as soon as the exporter's result is in
        the Pod's termination message. The Job says Complete ~2 s later (the kubelet marks the
        Pod Succeeded on its next pass, then the Job controller batches Pod updates for a
        second); `job_changed` then finds the export completed already."""
        if exporter_result([pod]) is None:
            return
        name = job_name(pod)
        job = self._cluster.get_job(pod["metadata"]["namespace"], name) if name else None
        if job is None:
            return
        view = JobView.of(job)
        export = self._export_of(job, view)
        if export is not None and export.status.state is ExportState.PROCESSING:
            self._complete(export, view)

    def _export_of(self, job: dict[str, Any], view: JobView) -> Export | None:
        """The export that owns the Job, if it still exists (the same one: same uid)."""
        name = owner_name(job)
        body = self._cluster.get_export(view.namespace, name) if name else None
        if body is None or body["metadata"]["uid"] != view.owner_uid:
            return None
        return Export(body)

    def job_deleted(self) -> None:
        self._admitter.request()

    def _follow(self, export: Export, job: JobView) -> None:
        state = export.status.state
        if state is None:
            return
        if state is ExportState.FAILED and job.phase in (JobPhase.RUNNING, JobPhase.SUSPENDED):
            # A failed export must not keep a slot or a database connection.
            self._cluster.delete_job(job.namespace, job.name)
            return
        if state.is_final:
            return
        if job.phase is JobPhase.RUNNING and state is ExportState.QUEUED:
            self._transition(export, status.processing(job.name, job.started_at or _now()))
        elif job.phase is JobPhase.SUCCEEDED:
            self._complete(export, job)
        elif job.phase is JobPhase.FAILED and self._transition(export, self._job_failure(job)):
            self._discard_unfinished_upload(export)

    def _complete(self, export: Export, job: JobView) -> None:
        current = export.status
        pods = self._cluster.job_pods(job.namespace, job.name)
        result = exporter_result(pods)
        finished = job.finished_at or _now()
        if (
            result is None
            or result.export_id != export.spec.export_id
            or result.object_key != current.object_key
        ):
            self._transition(
                export,
                status.failed(
                    ExportReason.RESULT_UNREADABLE,
                    f"the exporter of Job {job.name} exited 0 without a valid result for this "
                    "export in its termination message; check its logs "
                    f"(kubectl logs job/{job.name}) and create the export again",
                    finished,
                ),
            )
            return
        size = self._files.size(result.bucket, result.object_key)
        if size != result.bytes:
            found = "is missing" if size is None else f"has {size} bytes"
            self._transition(
                export,
                status.failed(
                    ExportReason.OBJECT_MISSING,
                    f"the exporter reported {result.bytes} bytes in s3://{result.bucket}/"
                    f"{result.object_key}, but the object {found}; create the export again",
                    finished,
                ),
            )
            return
        download = self._files.presign(result.bucket, result.object_key)
        retention = timedelta(seconds=self._settings.retention_seconds)
        transition = status.completed(
            result, download, current.started_at or job.started_at, finished, retention
        )
        if self._transition(export, transition):
            metrics.record_file(result.records, result.bytes)

    def _discard_unfinished_upload(self, export: Export) -> None:
        """Aborts the upload a failed Job's last Pod left open (killed, it could not abort it)."""
        current = export.status
        if not current.object_key:
            return
        try:
            self._files.delete(current.bucket or self._settings.bucket, current.object_key)
        except (BotoCoreError, ClientError) as error:
            logger.warning(
                "could not clean up the failed export's upload; the bucket's lifecycle rule must",
                extra={"export": export.owner.name, "key": current.object_key, "error": str(error)},
            )

    def _job_failure(self, job: JobView) -> status.Transition:
        finished = job.finished_at or _now()
        pods = self._cluster.job_pods(job.namespace, job.name)
        if job.failed_indexes:  # not the Pods the Job stopped once those had failed
            pods = [pod for pod in pods if completion_index(pod) in job.failed_indexes]
        said = last_failure(pods) or "no exit code"
        if job.failure_reason == "PodFailurePolicy":
            return status.failed(
                ExportReason.BAD_REQUEST,
                f"the exporter refused the request ({said}); fix it and create a new export",
                finished,
            )
        if job.failure_reason == "DeadlineExceeded":
            return status.failed(
                ExportReason.DEADLINE_EXCEEDED,
                f"the export ran longer than {self._settings.job_active_deadline_seconds} s and "
                "was stopped; export a shorter range, or raise "
                "EXPORT_OPERATOR_JOB_ACTIVE_DEADLINE_SECONDS",
                finished,
            )
        return status.failed(
            ExportReason.BACKOFF_LIMIT_EXCEEDED,
            f"{_failed_pod(job)} failed {self._settings.job_backoff_limit + 1} times (last: "
            f"{said}); check that the database and S3 are reachable, then create the export "
            "again",
            finished,
        )

    # --- the periodic check -----------------------------------------------------------------------

    def tick(self, body: dict[str, Any]) -> None:
        """Catches what events cannot while an export runs: a Pod that never starts, a lost Job."""
        export = Export(body)
        self.observe(body)
        if export.status.state in (ExportState.QUEUED, ExportState.PROCESSING):
            self._check_job(export)

    def sweep(self) -> None:
        """Retention, from the index of finished exports: files at expiresAt, archived objects
        after retention and grace; and deletions of archived exports left to finish."""
        now = _now()
        for due in self.finished.due(now):
            body = self._cluster.get_export(due.owner.namespace, due.owner.name)
            if body is None or body["metadata"]["uid"] != due.owner.uid:
                self.finished.forget(due.owner.uid)
                continue
            self._check_retention(Export(body))
            if due.object_due(now):
                self._cluster.delete_export(due.owner)
                logger.info(
                    "deleted a finished export's object after its retention and grace (its record "
                    "stays in the API's archive)",
                    extra={"namespace": due.owner.namespace, "export": due.owner.name},
                )
        for uid, body in list(self._unfinalized.items()):
            self._finalize(uid, body)

    def follow_archived(self) -> None:
        """One watch of the archived exports (outside kopf's watch): keeps their retention in the
        index and finishes a DELETE of one at once (the finalizer's work)."""
        for event, body in self._cluster.archived_changes(self._archived_cursor):
            if event == "DELETED":
                self.left_watch(body)
                continue
            # An operator killed between a status write and its Event leaves the repair to its
            # successor; the export may be archived by then, so it is seen only here.
            self.observe(body)
            if body["metadata"].get("deletionTimestamp"):
                self._finalize(body["metadata"]["uid"], body)

    def left_watch(self, body: dict[str, Any]) -> None:
        """A DELETED event of either watch: the export is gone, or it moved from one watch to the
        other (no deletionTimestamp, see `FinishedExports`), and what is known of it stays."""
        if body["metadata"].get("deletionTimestamp"):
            self._announcer.forget(body["metadata"]["uid"])
        self.finished.left_watch(body)

    def _finalize(self, uid: str, body: dict[str, Any]) -> None:
        """What the finalizer does for exports in kopf's watch (`delete`), then its removal; a Job
        still stopping leaves it to the next sweep."""
        try:
            self.delete(body)
        except kopf.TemporaryError:
            self._unfinalized[uid] = body
            return
        self._unfinalized.pop(uid, None)
        self._cluster.remove_finalizer(body)

    def _check_job(self, export: Export) -> None:
        namespace = export.owner.namespace
        job_body = self._cluster.get_job(namespace, export.job_name)
        job = JobView.of(job_body) if job_body else None
        if job is None or job.owner_uid != export.owner.uid:
            queued_at = export.status.queued_at or export.created_at
            if _now() - queued_at > timedelta(seconds=self._settings.job_lost_grace_seconds):
                self._transition(
                    export,
                    status.failed(
                        ExportReason.JOB_LOST,
                        f"Job {export.job_name} disappeared before its result was read (deleted "
                        "by hand, or removed by its TTL while the operator was down); create the "
                        "export again",
                        _now(),
                    ),
                )
            return
        self._follow(export, job)
        if job.phase is JobPhase.SUSPENDED:
            self._admitter.nudge()
        elif job.phase is JobPhase.RUNNING:
            self._check_startup(export, job)

    def _check_startup(self, export: Export, job: JobView) -> None:
        timeout = timedelta(seconds=self._settings.startup_timeout_seconds)
        stuck = cannot_start(self._cluster.job_pods(job.namespace, job.name), _now(), timeout)
        if stuck is None:
            return
        detail = f"{stuck.reason}: {stuck.message}" if stuck.message else stuck.reason
        failed = status.failed(
            ExportReason.POD_CANNOT_START,
            f"Pod {stuck.pod} did not start within {timeout.total_seconds():g} s ({detail}); "
            "check the exporter image and the Secrets "
            f"{self._settings.database_secret_name} and {self._settings.s3_secret_name}, "
            "then create the export again",
            _now(),
        )
        if self._transition(export, failed):
            self._cluster.delete_job(job.namespace, job.name)

    def _check_retention(self, export: Export) -> None:
        current = export.status
        if current.expires_at is None or _now() < current.expires_at:
            return
        if current.bucket and current.object_key:
            self._files.delete(current.bucket, current.object_key)
        retention = timedelta(seconds=self._settings.retention_seconds)
        self._transition(export, status.expired(retention))

    # --- deletion ---------------------------------------------------------------------------------

    def delete(self, body: dict[str, Any]) -> None:
        """Stops the export's Job, waits until its Pod is gone, then deletes its file."""
        export = Export(body)
        namespace = export.owner.namespace
        job_body = self._cluster.get_job(namespace, export.job_name)
        job = JobView.of(job_body) if job_body else None
        key = export.status.object_key or (job.object_key if job else None)
        if job is not None and job.owner_uid == export.owner.uid:
            if not job.deleting:
                self._cluster.delete_job(namespace, job.name)
            # Deleting the file while the exporter still writes could leave a new one behind. A
            # Job gets its Complete or Failed condition only once its Pods have stopped.
            if job.phase not in (JobPhase.SUCCEEDED, JobPhase.FAILED):
                raise kopf.TemporaryError(f"waiting for Job {job.name}'s Pod to stop", delay=2)
        if key:
            self._files.delete(export.status.bucket or self._settings.bucket, key)
        metrics.EXPORT_STATES.gone(export.owner.uid)
        self._admitter.request()

    # --- status writes ----------------------------------------------------------------------------

    def _transition(self, export: Export, transition: status.Transition) -> bool:
        """Writes the transition if still allowed; True when this call made it."""
        owner = export.owner
        for _attempt in range(STATUS_WRITE_ATTEMPTS):
            body = self._cluster.get_export(owner.namespace, owner.name)
            if body is None or body["metadata"]["uid"] != owner.uid:
                return False
            fresh = Export(body)
            now = _now()
            generation = int(body["metadata"].get("generation", 1))
            new = status.apply(fresh.status, transition, generation, now)
            if new is None:
                return False
            try:
                self._cluster.patch_export_status(
                    owner.namespace,
                    owner.name,
                    body["metadata"]["resourceVersion"],
                    status.merge_patch(new),
                )
            except ConflictError:
                continue
            self._announce(fresh, transition, now)
            return True
        raise kopf.TemporaryError(
            f"{owner.namespace}/{owner.name} kept changing; retrying", delay=1
        )

    def _announce(self, export: Export, transition: status.Transition, now: datetime) -> None:
        """The Event first: metrics and the log line are per process and best-effort."""
        said = Announcement(transition.state, transition.reason, transition.message)
        self._announcer.announce(export.body, said)
        metrics.record_transition(transition.state, export.created_at, now)
        logger.info(
            "export state changed",
            extra={
                "namespace": export.owner.namespace,
                "export": export.owner.name,
                "export_id": export.spec.export_id,
                "state": transition.state.value,
                "reason": transition.reason.value,
            },
        )
