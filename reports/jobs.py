"""Report jobs: request (or reuse), run, dispatch, and sweep jobs a crash left behind.

Runs in-process on a small thread pool by default (``make run`` needs no extra
service) and on Celery workers when ``settings.CELERY_BROKER_URL`` is set. A
running job beats a heartbeat at every step; a job whose heartbeat is older
than ``STALE_AFTER`` was interrupted (worker killed, web process restarted) and
is queued again, or failed after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from reports.filters import check_compare_wave, view_filters
from reports.models import ReportJob, ReportStatus
from surveys import errors, internal, releases
from surveys import services as survey_services
from surveys.models import Answer, AuditEvent, CustomerAccount, Invitation, InvitationUse, SurveyResponse, Wave

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=getattr(settings, "KAGAMI_REPORT_STALE_SECONDS", 600))
MAX_ATTEMPTS = 2
IN_PROCESS_WORKERS = 2

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class ReportNotReady(errors.Conflict):
    code = "report_not_ready"
    default_detail = "The report is not ready yet; poll its status until it is done."


# --------------------------------------------------------------------------- request


def report_options(*, wave: Wave, language: str, compare_wave: Wave | None = None, segments: bool = True,
                   weighted: bool = False, staff_filter: Mapping[str, str] | None = None,
                   customer_filter: Mapping[str, str] | None = None,
                   department: str | None = None) -> dict[str, Any]:
    """The normalised options of a request (what makes two requests identical)."""
    check_compare_wave(wave, compare_wave)
    department = internal.check_department(wave, department)
    if language not in ("ja", "en"):
        raise errors.ValidationFailed(field_errors={"language": ["Use 'ja' or 'en'."]})
    options = {"language": language, "compare_wave": compare_wave.pk if compare_wave else None,
               "segments": bool(segments), "weighted": bool(weighted)}
    if staff_filter or customer_filter:  # a filtered view (the web mirror's, or the API's staff=/customer=)
        staff, customer = view_filters(wave=wave, staff_filter=staff_filter, customer_filter=customer_filter)
        options.update(staff=dict(sorted(staff.items())), customer=dict(sorted(customer.items())))
    if department is not None:  # internal waves only: an external request's options stay what they were
        options["department"] = department
    return options


def options_hash(wave: Wave, options: Mapping[str, Any]) -> str:
    raw = json.dumps({"wave": wave.pk, **options}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _wave_data_state(wave_id: int) -> dict[str, Any]:
    # Published responses only: the report shows nothing else (surveys.releases).
    answers = Answer.objects.filter(response__wave_id=wave_id, response__release__isnull=False).aggregate(
        n=Count("id"), total=Sum("value"), weighted=Sum(F("value") * F("item_id")))
    responses = SurveyResponse.objects.filter(wave_id=wave_id, release__isnull=False).aggregate(
        n=Count("id"), last=Max("submitted_on"), weights=Sum("weight"), releases=Sum("release"))
    invitations = Invitation.objects.filter(wave_id=wave_id).aggregate(n=Count("id"))
    used = InvitationUse.objects.filter(invitation__wave_id=wave_id).count()
    return {"answers": answers, "responses": {**responses, "last": str(responses["last"])},
            "invitations": invitations["n"], "used": used}


def report_fingerprint(wave: Wave, options: Mapping[str, Any]) -> str:
    """A hash of everything the report is computed from (published responses: callers publish first);
    changes whenever a published answer, a wave setting,
    an invitation or an account's churn status changes."""
    wave = Wave.objects.select_related("organization", "instrument").get(pk=wave.pk)
    state: dict[str, Any] = {
        "wave": [wave.name, wave.slug, wave.status, str(wave.opens_on), str(wave.closes_on),
                 wave.anonymity_threshold, wave.customer_threshold, wave.staff_segment_fields,
                 wave.customer_segment_fields, wave.instrument_id],
        "org": [wave.organization.name, wave.organization.display_name_ja, wave.organization.display_name_en],
        "data": _wave_data_state(wave.pk),
        "accounts": list(CustomerAccount.objects.filter(organization_id=wave.organization_id)
                         .values_list("status").annotate(n=Count("id")).order_by("status")),
        "renderer": 1,  # bump when the report layout changes, so stale files are not reused
    }
    if options.get("compare_wave"):
        state["compare"] = _wave_data_state(options["compare_wave"])
    raw = json.dumps(state, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def report_job_request(*, wave: Wave, user: Any = None, language: str, compare_wave: Wave | None = None,
                       segments: bool = True, weighted: bool = False, dispatch: bool = True,
                       staff_filter: Mapping[str, str] | None = None,
                       customer_filter: Mapping[str, str] | None = None,
                       via: str = "direct", department: str | None = None) -> tuple[ReportJob, bool]:
    """Ask for a report; returns ``(job, created)``.

    An identical request on unchanged data returns the existing job (finished
    or still in progress) instead of rendering again; a failed job is retried
    by a new one. Raises ValidationFailed for a bad language or comparison wave.
    A request by a user is audited (a report shows staff-derived data, P7), ``via`` naming the entry.
    """
    job, created = _job_for(wave=wave, user=user, language=language, compare_wave=compare_wave,
                            segments=segments, weighted=weighted, dispatch=dispatch,
                            staff_filter=staff_filter, customer_filter=customer_filter, department=department)
    if getattr(user, "is_authenticated", False):
        survey_services.audit_record(
            organization_id=wave.organization_id, user=user, action=AuditEvent.Action.REPORT_REQUEST,
            wave=wave, details={"via": via, "report": str(job.pk), "language": job.language,
                                "segments": bool(job.options.get("segments")),
                                "weighted": bool(job.options.get("weighted")),
                                "compare_wave": job.options.get("compare_wave"), "reused": not created,
                                **({"department": department} if department else {})})
    return job, created


def report_job_file(*, job: ReportJob, user: Any, via: str) -> Any:
    """The finished PDF of ``job``, opened for reading, its download audited (P7); ReportNotReady (409)
    while it is not done."""
    if job.status != ReportStatus.DONE or not job.file:
        raise ReportNotReady(
            f"The report is {job.status} ({job.progress}%)." if job.status != ReportStatus.FAILED
            else f"The report failed: {job.error}")
    survey_services.audit_record(
        organization_id=job.wave.organization_id, user=user, action=AuditEvent.Action.REPORT_DOWNLOAD,
        wave=job.wave, details={"via": via, "report": str(job.pk), "language": job.language})
    return job.file.open("rb")


_JOB_LOCK_SPACE = 0x4B52  # pg_advisory_xact_lock's first key for report-job look-ups ("KR")


def _serialise_identical_requests(wave: Wave, o_hash: str) -> None:
    """Make identical report requests take turns until the caller's transaction ends.

    On PostgreSQL a transaction-level advisory lock of the wave and the options, not the wave's row: a bulk
    load holds that row until it commits (surveys.releases.ImportReleases, minutes for millions of rows), and a
    report request must not wait for it; different requests need not wait for each other either. Elsewhere
    (SQLite: one writer at a time) the wave's row, as before.
    """
    if connection.vendor != "postgresql":
        Wave.objects.select_for_update(no_key=True).filter(pk=wave.pk).first()
        return
    key = int.from_bytes(hashlib.sha256(f"{wave.pk}:{o_hash}".encode()).digest()[:4], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_JOB_LOCK_SPACE, key])


def _job_for(*, wave: Wave, user: Any, language: str, compare_wave: Wave | None, segments: bool, weighted: bool,
             dispatch: bool, staff_filter: Mapping[str, str] | None,
             customer_filter: Mapping[str, str] | None,
             department: str | None = None) -> tuple[ReportJob, bool]:
    report_jobs_sweep_stale()
    options = report_options(wave=wave, language=language, compare_wave=compare_wave, segments=segments,
                             weighted=weighted, staff_filter=staff_filter, customer_filter=customer_filter,
                             department=department)
    o_hash = options_hash(wave, options)
    # Publish what is due first, outside the lock below: publishing takes the wave's data-version row, as
    # every post does, and waiting for it while holding the wave would deadlock with them.
    releases.publish_due(wave)
    if compare_wave is not None:
        releases.publish_due(compare_wave)
    with transaction.atomic():
        # Identical requests arriving together (a double click, two executives at 9:00) must make one
        # job: a lock serialises the look-up-then-create below across processes.
        _serialise_identical_requests(wave, o_hash)
        fingerprint = report_fingerprint(wave, options)
        existing = (ReportJob.objects.filter(wave=wave, options_hash=o_hash, data_fingerprint=fingerprint)
                    .exclude(status=ReportStatus.FAILED).order_by("-created_at").first())
        if existing is not None and (existing.status != ReportStatus.DONE or existing.file):
            return existing, False
        job = ReportJob.objects.create(
            wave=wave, requested_by=user if getattr(user, "is_authenticated", False) else None,
            language=language, options=options, options_hash=o_hash, data_fingerprint=fingerprint)
        if dispatch:
            report_job_dispatch(job)  # on commit: after the lock is released and the job is visible
    return job, True


# --------------------------------------------------------------------------- run


def _touch(job_id: Any, progress: int, **fields: Any) -> None:
    ReportJob.objects.filter(pk=job_id, status=ReportStatus.RUNNING).update(
        progress=progress, heartbeat_at=timezone.now(), **fields)


def build_report(*, wave: Wave, language: str, options: Mapping[str, Any],
                 progress: Callable[[int, str], None]):
    """Gap engine → context → PDF. Returns ``reports.pdf.render.RenderedReport``."""
    from reports.context import build_report_context
    from reports.pdf.render import render_pdf
    from reports.services import gap_analysis

    compare = None
    if options.get("compare_wave"):
        compare = Wave.objects.filter(pk=options["compare_wave"], organization_id=wave.organization_id).first()
    progress(10, "analysis")
    analysis = gap_analysis(wave=wave, compare_wave=compare, weighted=bool(options.get("weighted")),
                            segments=bool(options.get("segments", True)), language=language,
                            staff_filter=options.get("staff") or None, customer_filter=options.get("customer") or None,
                            invariance=True,  # the dimension table flags gaps that are not comparable (§3.5)
                            department=options.get("department"))
    progress(40, "context")
    ctx = build_report_context(analysis, language=language, wave=wave)
    progress(55, "charts")
    return render_pdf(ctx, progress=progress)


def report_job_run(job_id: Any) -> ReportJob | None:
    """Run one queued job to the end. Returns the job, or None if another worker already took it."""
    now = timezone.now()
    claimed = ReportJob.objects.filter(pk=job_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING, started_at=now, heartbeat_at=now, progress=5, attempts=F("attempts") + 1,
        error="")
    if not claimed:
        return None
    job = ReportJob.objects.select_related("wave", "wave__organization", "wave__instrument").get(pk=job_id)
    try:
        rendered = build_report(wave=job.wave, language=job.language, options=job.options,
                                progress=lambda pct, step: _touch(job.pk, pct))
        job.refresh_from_db(fields=["status"])
        if job.status != ReportStatus.RUNNING:
            # Swept as stale while we were rendering; the retry owns the job now.
            return job
        job.file.save(job.filename(), ContentFile(rendered.pdf), save=False)
        ReportJob.objects.filter(pk=job.pk).update(
            file=job.file.name, status=ReportStatus.DONE, progress=100, page_count=rendered.page_count,
            finished_at=timezone.now(), heartbeat_at=timezone.now())
    except Exception as exc:  # the job records every failure; nothing may leave it "running"
        logger.exception("report job %s failed", job_id)
        reason = exc.detail if isinstance(exc, errors.KagamiError) else f"{type(exc).__name__}: {exc}"
        ReportJob.objects.filter(pk=job_id).update(status=ReportStatus.FAILED, error=str(reason)[:2000],
                                                   finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --------------------------------------------------------------------------- dispatch


def _executor_instance() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=IN_PROCESS_WORKERS, thread_name_prefix="kagami-report")
        return _executor


def _run_in_thread(job_id: str, run: Callable[[str], Any] | None = None) -> None:
    close_old_connections()
    try:
        (run or report_job_run)(job_id)
    finally:
        # Threads of the pool outlive the job: never leave a connection open in them.
        connections.close_all()


def background_dispatch(task_name: str, run: Callable[[str], Any], job_id: str) -> None:
    """Run ``run(job_id)`` once the current transaction commits: as the Celery task ``task_name`` when a
    broker is configured, else on this process's job threads (report and import jobs share them)."""
    if settings.CELERY_BROKER_URL:
        from backend.celery import app as celery_app

        transaction.on_commit(lambda: celery_app.send_task(task_name, args=[job_id]))
    else:
        transaction.on_commit(lambda: _executor_instance().submit(_run_in_thread, job_id, run))


def report_job_dispatch(job: ReportJob) -> None:
    """Start a queued job once the transaction that created it commits."""
    background_dispatch("reports.render_report", report_job_run, str(job.pk))


def report_jobs_sweep_stale(*, now: Any = None, stale_after: timedelta | None = None) -> int:
    """Re-queue (or fail, after MAX_ATTEMPTS) jobs whose worker stopped beating. Returns how many."""
    now = now or timezone.now()
    cutoff = now - (stale_after or STALE_AFTER)
    stale = ReportJob.objects.filter(
        Q(status=ReportStatus.RUNNING, heartbeat_at__lt=cutoff)
        # queued but never picked up: the process that owned the in-memory queue is gone
        | Q(status=ReportStatus.QUEUED, created_at__lt=cutoff, heartbeat_at__isnull=True)
        | Q(status=ReportStatus.QUEUED, heartbeat_at__lt=cutoff)
    )
    swept = 0
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            updated = ReportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ReportStatus.FAILED, finished_at=now,
                error="Interrupted: the worker stopped responding and the job ran out of retries.")
        else:
            updated = ReportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ReportStatus.QUEUED, progress=0, heartbeat_at=now)
            if updated:
                report_job_dispatch(job)
        swept += updated
    return swept
