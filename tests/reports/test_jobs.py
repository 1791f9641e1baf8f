"""Report jobs in-process: queued → running → done with progress, failures, reuse, and the stale sweep."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from reports import jobs
from reports.models import ReportJob, ReportStatus
from surveys import models as m
from tests import factories as f
from tests.reports.conftest import FAKE_PDF


@pytest.fixture
def wave(org):
    return f.WaveFactory(organization=org, status=m.WaveStatus.CLOSED, slug="autumn")


def test_a_job_goes_from_queued_through_running_to_done_with_progress(wave, owner, fake_render, no_dispatch):
    job, created = jobs.report_job_request(wave=wave, user=owner, language="en")
    assert created is True
    assert (job.status, job.progress, job.requested_by) == (ReportStatus.QUEUED, 0, owner)
    assert no_dispatch == [str(job.pk)]

    done = jobs.report_job_run(job.pk)

    assert fake_render == [("running", 10), ("running", 40), ("running", 70), ("running", 90)]
    assert (done.status, done.progress, done.page_count, done.attempts) == (ReportStatus.DONE, 100, 3, 1)
    assert done.file.read() == FAKE_PDF
    assert done.filename().startswith("kagami-autumn-en-")
    assert done.started_at <= done.finished_at


def test_a_job_runs_once_even_when_delivered_twice(wave, fake_render, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="ja")
    jobs.report_job_run(job.pk)
    assert jobs.report_job_run(job.pk) is None
    assert len(fake_render) == 4


def test_a_failing_job_is_marked_failed_with_its_reason(wave, monkeypatch, no_dispatch):
    def explode(**kwargs):
        kwargs["progress"](10, "analysis")
        raise RuntimeError("the gap engine fell over")

    monkeypatch.setattr(jobs, "build_report", explode)
    job, _ = jobs.report_job_request(wave=wave, language="en")
    failed = jobs.report_job_run(job.pk)
    assert failed.status == ReportStatus.FAILED
    assert failed.error == "RuntimeError: the gap engine fell over"
    assert not failed.file
    # A failed job is not reused: asking again starts a new one.
    again, created = jobs.report_job_request(wave=wave, language="en")
    assert created is True and again.pk != job.pk


def test_an_identical_request_on_unchanged_data_reuses_the_finished_file(wave, fake_render, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en")
    jobs.report_job_run(job.pk)
    same, created = jobs.report_job_request(wave=wave, language="en")
    assert (same.pk, created, same.status) == (job.pk, False, ReportStatus.DONE)
    other_language, created = jobs.report_job_request(wave=wave, language="ja")
    assert created is True and other_language.pk != job.pk
    no_segments, created = jobs.report_job_request(wave=wave, language="en", segments=False)
    assert created is True
    assert len(no_dispatch) == 3


def test_new_answers_make_a_new_report(wave, fake_render, no_dispatch):
    item = f.ItemPairFactory(instrument=wave.instrument, dimension__instrument=wave.instrument)
    job, _ = jobs.report_job_request(wave=wave, language="en")
    jobs.report_job_run(job.pk)
    f.AnswerFactory(response__wave=wave, item=item, value=4)  # waiting for a release: the report is the same
    same, created = jobs.report_job_request(wave=wave, language="en")
    assert created is False and same.pk == job.pk
    f.AnswerFactory(response__wave=wave, response__release=1, item=item, value=4)  # a published one
    fresh, created = jobs.report_job_request(wave=wave, language="en")
    assert created is True and fresh.pk != job.pk and fresh.data_fingerprint != job.data_fingerprint


def test_a_changed_answer_changes_the_fingerprint(wave):
    item = f.ItemPairFactory(instrument=wave.instrument, dimension__instrument=wave.instrument)
    answer = f.AnswerFactory(response__wave=wave, response__release=1, item=item, value=4)
    options = jobs.report_options(wave=wave, language="en")
    before = jobs.report_fingerprint(wave, options)
    assert jobs.report_fingerprint(wave, options) == before
    f.set_answers(answer.response, {item.pk: 2})
    assert jobs.report_fingerprint(wave, options) != before


def test_a_comparison_wave_of_another_organization_is_refused(wave, other_org):
    from surveys.errors import ValidationFailed

    foreign = f.WaveFactory(organization=other_org)
    with pytest.raises(ValidationFailed) as caught:
        jobs.report_job_request(wave=wave, language="en", compare_wave=foreign, dispatch=False)
    assert "compare_wave" in caught.value.field_errors


def test_a_running_job_whose_worker_died_is_queued_again_then_failed(wave, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en", dispatch=False)
    long_ago = timezone.now() - jobs.STALE_AFTER - timedelta(minutes=1)
    ReportJob.objects.filter(pk=job.pk).update(status=ReportStatus.RUNNING, heartbeat_at=long_ago, attempts=1,
                                               progress=40)
    assert jobs.report_jobs_sweep_stale() == 1
    job.refresh_from_db()
    assert (job.status, job.progress) == (ReportStatus.QUEUED, 0)
    assert no_dispatch == [str(job.pk)]

    ReportJob.objects.filter(pk=job.pk).update(status=ReportStatus.RUNNING, heartbeat_at=long_ago,
                                               attempts=jobs.MAX_ATTEMPTS)
    assert jobs.report_jobs_sweep_stale() == 1
    job.refresh_from_db()
    assert job.status == ReportStatus.FAILED
    assert job.error.startswith("Interrupted")


def test_a_job_with_a_fresh_heartbeat_is_left_alone(wave, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en", dispatch=False)
    ReportJob.objects.filter(pk=job.pk).update(status=ReportStatus.RUNNING, heartbeat_at=timezone.now(), attempts=1)
    assert jobs.report_jobs_sweep_stale() == 0
    job.refresh_from_db()
    assert job.status == ReportStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_the_in_process_runner_renders_in_a_background_thread(settings, org, fake_render):
    settings.CELERY_BROKER_URL = ""
    wave = f.WaveFactory(organization=org, slug="threaded")
    job, _ = jobs.report_job_request(wave=wave, language="en")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.1)
    assert job.status == ReportStatus.DONE, job.error
    assert job.progress == 100
    assert job.file.read() == FAKE_PDF
