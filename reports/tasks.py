"""Celery tasks of the reports app (used when settings.CELERY_BROKER_URL is set)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.render_report", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_report_task(job_id: str) -> str | None:
    """Render one report job; a second delivery of the same job is a no-op (the job is claimed atomically)."""
    from reports.jobs import report_job_run

    job = report_job_run(job_id)
    return job.status if job is not None else None
