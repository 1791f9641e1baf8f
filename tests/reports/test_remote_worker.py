"""Report PDFs rendered on one host and downloaded from another: the database file storage.

``KAGAMI_FILE_STORAGE=database`` (reports/storage.py) keeps the PDF in PostgreSQL, so a Celery worker on
another host needs no file system shared with the web processes (README → Past one machine). The storage's
contract is tested on any database; the last test runs a real gunicorn and a real Celery worker process,
each with its own empty MEDIA_ROOT (two "hosts"), against the PostgreSQL test database and its streaming
replica (scripts/run_tests.sh's last step).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from rest_framework.authtoken.models import Token

from reports import jobs
from reports.models import ReportJob, ReportStatus, StoredFile
from reports.storage import DatabaseStorage
from surveys import models as m
from surveys import services
from tests import factories as f
from tests.reports.conftest import FAKE_PDF
from tests.security import live_stack
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, open_wave


@pytest.fixture
def database_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "reports.storage.DatabaseStorage"}}
    assert isinstance(storages["default"], DatabaseStorage)


@pytest.mark.django_db
def test_the_storage_saves_opens_sizes_lists_and_deletes_rows_and_never_overwrites():
    storage = DatabaseStorage()
    name = storage.save("reports/1/a/x.pdf", ContentFile(b"%PDF-one"))
    again = storage.save("reports/1/a/x.pdf", ContentFile(b"%PDF-two"))
    assert name == "reports/1/a/x.pdf" and again != name and again.startswith("reports/1/a/x_")
    with storage.open(name) as handle:
        assert handle.read() == b"%PDF-one"
    assert storage.open(again).read() == b"%PDF-two"
    assert (storage.exists(name), storage.size(name)) == (True, 8)
    assert storage.listdir("reports/1") == (["a"], [])
    assert storage.listdir("reports/1/a") == ([], sorted(["x.pdf", again.rsplit("/", 1)[1]]))
    storage.delete(name)
    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(ValueError):
        storage.open(again, "wb")


@pytest.mark.django_db
def test_a_finished_job_keeps_its_pdf_in_the_database_and_nothing_on_disk(settings, tmp_path, org, owner,
                                                                          fake_render, no_dispatch, database_storage):
    settings.MEDIA_ROOT = tmp_path / "media"
    wave = f.WaveFactory(organization=org, status=m.WaveStatus.CLOSED, slug="remote")
    job, _ = jobs.report_job_request(wave=wave, user=owner, language="en")
    done = jobs.report_job_run(job.pk)
    assert done.status == ReportStatus.DONE
    assert bytes(StoredFile.objects.get(name=done.file.name).content) == FAKE_PDF
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))
    assert jobs.report_job_file(job=done, user=owner, via="api").read() == FAKE_PDF


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
# Real processes and a real render (~45 s on a loaded machine): run in the "past one machine" step of
# scripts/run_tests.sh only, where the two hosts also read the gap's counts on the streaming replica.
@pytest.mark.skipif("replica" not in settings.DATABASES, reason="runs with the streaming replica step "
                    "(KAGAMI_TEST_REPLICA=1)")
def test_a_pdf_rendered_by_a_worker_on_another_host_downloads_from_the_web_host(org, owner, tmp_path: Path):
    web_media, worker_media = tmp_path / "web-media", tmp_path / "worker-media"
    web_media.mkdir()
    worker_media.mkdir()
    redis_port, web_port = live_stack.free_port(), live_stack.free_port()
    redis = live_stack.redis_server(redis_port, tmp_path / "redis.log", tmp_path)
    shared = {"CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0", "KAGAMI_FILE_STORAGE": "database"}
    web = worker = None
    try:
        web = live_stack.gunicorn(web_port, live_stack.base_env(web_media, **shared), tmp_path / "gunicorn.log",
                                  workers=1, threads=2)
        worker = live_stack.celery_worker(live_stack.base_env(worker_media, **shared), tmp_path / "celery.log")
        wave = open_wave(org, slug="two-hosts")
        for _ in range(6):
            services.response_submit(wave=wave, side="staff", answers=as_json(STAFF_ANSWERS), language="en")
            services.response_submit(wave=wave, side="customer", answers=as_json(CUSTOMER_ANSWERS), language="en")
        headers = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}
        status, body = live_stack.request(web_port, "POST", f"/api/v1/waves/{wave.pk}/reports/", {"language": "en"},
                                          headers=headers)
        assert status == 202, (body, web.tail())
        job_id = json.loads(body)["id"]
        deadline = time.monotonic() + 120
        while ReportJob.objects.get(pk=job_id).status not in (ReportStatus.DONE, ReportStatus.FAILED):
            assert time.monotonic() < deadline, worker.tail()
            time.sleep(0.5)
        job = ReportJob.objects.get(pk=job_id)
        assert job.status == ReportStatus.DONE, (job.error, worker.tail())
        status, pdf = live_stack.request(web_port, "GET", f"/api/v1/reports/{job_id}/pdf/", headers=headers)
    finally:
        for service in (web, worker, redis):
            if service is not None:
                service.stop()
    assert status == 200 and pdf[:5] == b"%PDF-", (status, pdf[:200])
    assert bytes(StoredFile.objects.get(name=job.file.name).content) == pdf
    # Neither host wrote the file to its own disk: the bytes travelled through PostgreSQL only.
    assert not list(web_media.rglob("*.pdf")) and not list(worker_media.rglob("*.pdf"))
