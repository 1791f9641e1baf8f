"""Crash safety: kill -9 the web server and the Celery worker in the middle of a load, restart them, lose nothing.

Real processes: gunicorn, a Celery worker (solo pool) and redis-server on free
loopback ports, against this session's PostgreSQL test database. PostgreSQL in
the test cluster runs with fsync=off (scripts/with_postgres.sh): that is fine
here because the database server itself is never killed — what is proven is
that an acknowledged response was committed before the acknowledgement left
the web process, and that no report job is left running forever.
"""

from __future__ import annotations

import http.client
import json
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from reports.models import ReportJob, ReportStatus
from surveys import models as m
from surveys import services
from tests.security import live_stack
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, open_wave

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

STALE_SECONDS = 6  # a job without a heartbeat for this long was interrupted (production: 600)



class Load:
    """Anonymous submissions from a few threads until stopped; remembers what the server acknowledged."""

    def __init__(self, port: int, slug: str, threads: int = 6) -> None:
        self.port, self.slug, self.threads = port, slug, threads
        self.acknowledged: list[str] = []
        self.statuses: Counter = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counter = 0
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._stop.is_set():
            n = self._next()
            side = "staff" if n % 3 == 0 else "customer"
            body = {"answers": as_json(STAFF_ANSWERS if side == "staff" else CUSTOMER_ANSWERS),
                    "comment": f"crash-{n:06d}", "language": "en"}
            path = f"/api/v1/public/waves/{self.slug}/{side}/"
            try:
                if side == "staff":  # the staff link stores a post only with its form's single-use ticket
                    body["ticket"] = live_stack.ticket(self.port, path, conn=conn)
                status, _ = live_stack.request(self.port, "POST", path, body, conn=conn)
            except (OSError, http.client.HTTPException):
                # The server died under us: this one was not acknowledged. Never resend the same
                # submission (it may have been committed); the next one is new.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status = 0
                time.sleep(0.05)
            with self._lock:
                self.statuses[status] += 1
                if 200 <= status < 300:
                    self.acknowledged.append(body["comment"])
        conn.close()

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)


def _wait(predicate, timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def test_killing_the_web_server_and_the_worker_mid_load_loses_no_acknowledged_response_and_strands_no_job(
        org, owner, tmp_path: Path):
    media = tmp_path / "media"
    media.mkdir()
    redis_port, web_port = live_stack.free_port(), live_stack.free_port()
    redis = live_stack.redis_server(redis_port, tmp_path / "redis.log", tmp_path)
    env = live_stack.base_env(media, CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
                              KAGAMI_REPORT_STALE_SECONDS=str(STALE_SECONDS))
    web = live_stack.gunicorn(web_port, env, tmp_path / "gunicorn.log")
    worker = live_stack.celery_worker(env, tmp_path / "celery.log")
    load = None
    try:
        wave = open_wave(org, slug="crash")
        for _ in range(6):
            services.response_submit(wave=wave, side="staff", answers=as_json(STAFF_ANSWERS), language="en")
        headers = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}

        load = Load(web_port, wave.slug).start()
        _wait(lambda: load.count() >= 100, 60, "the first acknowledged submissions")

        # 1. The web server dies mid-load (master and workers, no graceful anything) and comes back.
        web.kill9()
        before_restart = load.count()
        web = live_stack.gunicorn(web_port, env, tmp_path / "gunicorn.log")
        _wait(lambda: load.count() >= before_restart + 100, 60, "submissions after the web restart")

        # 2. A report job is running on the worker when the worker dies.
        status, body = live_stack.request(web_port, "POST", f"/api/v1/waves/{wave.pk}/reports/",
                                          {"language": "en"}, headers=headers)
        assert status == 202, (body, web.tail(60))
        job_id = json.loads(body)["id"]
        _wait(lambda: ReportJob.objects.get(pk=job_id).status == ReportStatus.RUNNING, 90, "the job to start",
              poll=0.02)
        worker.kill9()
        assert ReportJob.objects.get(pk=job_id).status == ReportStatus.RUNNING  # interrupted mid-render
        # Both kills happened under load; the recovery below needs none (it would only compete for the CPU).
        load.stop()
        worker = live_stack.celery_worker(env, tmp_path / "celery.log")

        # 3. Polling the job (which sweeps stale jobs) ends it as done or failed — never stuck.
        def finished() -> bool:
            status, body = live_stack.request(web_port, "GET", f"/api/v1/reports/{job_id}/", headers=headers)
            return status == 200 and json.loads(body)["status"] in (ReportStatus.DONE, ReportStatus.FAILED)

        _wait(finished, 120, f"the interrupted report to finish\n{worker.tail()}", poll=0.5)
    finally:
        if load is not None:
            load.stop()
        web.stop()
        worker.stop()
        redis.stop()

    job = ReportJob.objects.get(pk=job_id)
    assert job.attempts >= 2, "the interrupted job was retried, not just marked"
    if job.status == ReportStatus.DONE:
        assert (media / job.file.name).read_bytes()[:5] == b"%PDF-"
    else:
        assert job.status == ReportStatus.FAILED and "Interrupted" in job.error

    stored = Counter(m.SurveyResponse.objects.filter(wave=wave, comment__startswith="crash-")
                     .values_list("comment", flat=True))
    missing = set(load.acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged responses lost: {sorted(missing)[:5]}"
    assert max(stored.values()) == 1
    assert not [s for s in load.statuses if s >= 500], (load.statuses, web.tail(150))
    assert load.statuses[0] > 0, load.statuses  # the kill really cut requests in flight
    # Every stored response is whole: no response without its answers.
    incomplete = m.SurveyResponse.objects.filter(wave=wave, comment__startswith="crash-", answers__isnull=True)
    assert not incomplete.exists()
