"""API imports: checked fast, run synchronously when small and as a background job when large.

Every API upload is checked first — byte size, then the header (400 naming the missing or unknown
columns, before any row is read), then the rows counted while streaming, up to
``KAGAMI_IMPORT_MAX_ROWS`` (413 beyond, without reading the rest). A file of at most
``KAGAMI_IMPORT_SYNC_ROWS`` data rows (1,000 by default: well under the web server's 30 s timeout for
invitations, which are created one by one) is imported in the request; a larger one becomes an
``ImportJob`` run on the report jobs' machinery (in-process threads, or Celery when
``CELERY_BROKER_URL`` is set; see reports/jobs.py) and is polled at ``GET /api/v1/import-jobs/{id}/``.
A job keeps the uploaded file only until it ends. It reports counts and problems, never invitation
links: those are shown once, and a job has nobody to show them to (only their hashes are stored), so
customers imported by a job get theirs by email (``send``) or by a reminder.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from surveys import errors, imports, services
from surveys.models import ImportJob, Organization, Wave

logger = logging.getLogger(__name__)

MAX_REPORTED_PROBLEMS = 1_000  # a job keeps at most this many row problems (the count is in its detail)


def check_file(*, kind: str, data: bytes, filename: str, wave: Wave | None = None, side: str = "") -> int:
    """The number of data rows of an upload, after its header is checked; raises ImportFailed (400) or
    ImportTooLarge (413, bytes or rows) as soon as the file shows it."""
    table = imports.open_table(data=data, filename=filename, max_rows=settings.KAGAMI_IMPORT_MAX_ROWS)
    if kind == ImportJob.Kind.INVITATIONS:
        imports.invitations_header(wave=wave, side=side, header=table.header)
    else:
        imports.accounts_header(header=table.header)
    return sum(1 for _ in table.rows)


def import_job_queue_if_large(*, kind: str, organization: Organization, data: bytes, filename: str,
                              wave: Wave | None = None, side: str = "", options: dict | None = None,
                              user: Any = None) -> ImportJob | None:
    """Check an upload; queue a job and return it if it is over the synchronous threshold, else None
    (the caller imports it in the request)."""
    rows = check_file(kind=kind, data=data, filename=filename, wave=wave, side=side)
    if rows <= settings.KAGAMI_IMPORT_SYNC_ROWS:
        return None
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, organization=organization, wave=wave, side=side, options=options or {},
            filename=(filename or "")[:255], data=data, rows_total=rows, heartbeat_at=timezone.now(),
            created_by=user if getattr(user, "is_authenticated", False) else None)
        import_job_dispatch(job)
    return job


def import_job_dispatch(job: ImportJob) -> None:
    from reports.jobs import background_dispatch

    background_dispatch("surveys.run_import_job", import_job_run, str(job.pk))


class _Progress:
    """The importer's per-row callback: writes rows_done and a heartbeat at most every 1% (or 200 rows)."""

    def __init__(self, job_id: Any, total: int) -> None:
        self.job_id, self.done, self.written = job_id, 0, 0
        self.step = max(200, total // 100)

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if self.done - self.written >= self.step:
            self.flush()

    def flush(self) -> None:
        self.written = self.done
        ImportJob.objects.filter(pk=self.job_id, status=ImportJob.Status.RUNNING).update(
            rows_done=self.done, heartbeat_at=timezone.now())


def import_job_run(job_id: Any) -> ImportJob | None:
    """Run one queued job to its end. Returns the job, or None if another worker already took it."""
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.RUNNING, started_at=now, heartbeat_at=now):
        return None
    job = ImportJob.objects.select_related("organization", "wave").get(pk=job_id)
    progress = _Progress(job.pk, job.rows_total or 0)
    data = bytes(job.data)
    fields: dict[str, Any]
    try:
        common = {"data": data, "filename": job.filename, "skip_bad_rows": bool(job.options.get("skip_bad_rows")),
                  "progress": progress, "max_rows": settings.KAGAMI_IMPORT_MAX_ROWS}
        if job.kind == ImportJob.Kind.INVITATIONS:
            with services.staff_invitations_by_email_only():
                result = imports.import_invitations(wave=job.wave, side=job.side, **common)
            if job.options.get("send") and result.objects:
                from surveys.notifications import invitations_send

                invitations_send(issued=list(result.objects))
        else:
            result = imports.import_accounts(organization=job.organization, **common)
        fields = {"status": ImportJob.Status.DONE, "created": result.created,
                  "rows_done": progress.done or result.created,
                  "skipped": result.skipped[:MAX_REPORTED_PROBLEMS], "ignored_columns": result.ignored_columns}
    except errors.ImportFailed as exc:
        fields = {"status": ImportJob.Status.FAILED, "error": exc.detail[:2000],
                  "errors": exc.errors[:MAX_REPORTED_PROBLEMS], "rows_done": 0}
    except Exception as exc:  # the job records every failure; nothing may leave it "running"
        logger.exception("import job %s failed", job_id)
        reason = exc.detail if isinstance(exc, errors.KagamiError) else "The import failed unexpectedly."
        fields = {"status": ImportJob.Status.FAILED, "error": str(reason)[:2000], "rows_done": 0}
    # The uploaded file (contact lists: names and addresses) is kept no longer than the job runs.
    ImportJob.objects.filter(pk=job.pk).update(data=b"", finished_at=timezone.now(), heartbeat_at=timezone.now(),
                                               **fields)
    job.refresh_from_db()
    return job


def import_job_sweep_stale(*, organization_ids: list[int]) -> int:
    """Fail jobs whose worker stopped beating (killed, restarted): an import writes in one transaction,
    so nothing of it was saved and the file may simply be uploaded again."""
    cutoff = timezone.now() - timedelta(seconds=settings.KAGAMI_REPORT_STALE_SECONDS)
    return ImportJob.objects.filter(
        organization_id__in=organization_ids,
        status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], heartbeat_at__lt=cutoff,
    ).update(status=ImportJob.Status.FAILED, data=b"", finished_at=timezone.now(), rows_done=0,
             error="Interrupted: the worker stopped before the import ended; nothing was imported. Upload the "
                   "file again.")


__all__ = ["check_file", "import_job_queue_if_large", "import_job_run", "import_job_sweep_stale"]
