"""A report job on a real Celery worker, through a real redis-server started on loopback for this test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import pytest

from reports import jobs
from reports.models import ReportJob, ReportStatus
from surveys import models as m
from surveys import services
from tests import factories as f

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _small_wave(org) -> m.Wave:
    inst = f.InstrumentFactory(organization=org, key="celery-test")
    dim = f.DimensionFactory(instrument=inst, key="speed", name_en="Speed", name_ja="スピード")
    f.ItemPairFactory(instrument=inst, dimension=dim, key="s1", is_headline=True)
    f.ItemPairFactory(instrument=inst, dimension=dim, key="s2")
    wave = services.wave_create(organization=org, instrument=inst, name="Celery wave", slug="celery-wave")
    services.wave_open(wave=wave)
    for i in range(8):
        services.response_submit(wave=wave, side="staff", answers={"s1": 4 + i % 2, "s2": 4}, language="en")
    for i in range(10):
        services.response_submit(wave=wave, side="customer", answers={"s1": 2 + i % 3, "s2": 3}, language="en")
    return wave


@pytest.mark.django_db(transaction=True)
def test_a_report_job_renders_on_a_real_celery_worker(settings, redis_url, org):
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    import reports.tasks  # noqa: F401  (registers the task with the app)
    from backend.celery import app

    settings.CELERY_BROKER_URL = redis_url
    app.conf.update(broker_url=redis_url, result_backend=None, task_always_eager=False,
                    broker_connection_retry_on_startup=True)
    wave = _small_wave(org)

    # Wait for the task to end instead of polling the job: SQLite's test database is in memory with a
    # shared cache, where a read in this thread during the worker's write fails it ("table is locked").
    finished = threading.Event()

    def on_postrun(**_kwargs) -> None:
        finished.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            job, created = jobs.report_job_request(wave=wave, language="ja")
            assert created and job.status == ReportStatus.QUEUED
            assert finished.wait(timeout=90), "the worker did not finish the task in 90 s"
    finally:
        task_postrun.disconnect(on_postrun)
    job.refresh_from_db()

    assert job.status == ReportStatus.DONE, job.error
    assert job.progress == 100 and job.attempts == 1
    assert job.file.read(5) == b"%PDF-"
    assert job.page_count >= 7
    # The same request now reuses the worker's file.
    again, created = jobs.report_job_request(wave=wave, language="ja")
    assert (again.pk, created) == (job.pk, False)
    assert ReportJob.objects.count() == 1
