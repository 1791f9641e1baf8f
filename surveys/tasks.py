"""Celery tasks of the surveys app (used when settings.CELERY_BROKER_URL is set)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="surveys.run_import_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_import_job_task(job_id: str) -> str | None:
    """Run one import job; a second delivery of the same job is a no-op (the job is claimed atomically)."""
    from surveys.import_jobs import import_job_run

    job = import_job_run(job_id)
    return job.status if job is not None else None
