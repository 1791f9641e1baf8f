"""Concurrency on PostgreSQL against a real gunicorn: a burst of distinct submissions, one report per request burst.

(One invitation submitted many times at once → exactly one response is proven in
tests/surveys/test_public_api.py, for the JSON API and the HTML form.)

gunicorn runs as a subprocess against this session's test database; the tests
commit their rows (``transaction=True``) so its workers see them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.authtoken.models import Token

from reports.models import ReportJob, ReportStatus
from surveys import models as m
from surveys import services
from tests.security import live_stack
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, open_wave

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BURST = 1000  # a thousand distinct submissions: enough to overlap every worker thread many times over
CLIENT_THREADS = 16



@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory: pytest.TempPathFactory):
    """One gunicorn for the module (starting its four workers is most of a test's setup time), on the
    test database (hence django_db_setup first); each test uses its own wave, so they share nothing else."""
    port = live_stack.free_port()
    workdir = tmp_path_factory.mktemp("concurrency")
    media = workdir / "media"
    media.mkdir()
    service = live_stack.gunicorn(port, live_stack.base_env(media), workdir / "gunicorn.log")
    try:
        yield port, media, service
    finally:
        service.stop()


def _submit_burst(port: int, slug: str, total: int, threads: int) -> tuple[list[str], Counter]:
    """POST ``total`` distinct anonymous submissions from ``threads`` keep-alive clients.

    Returns the markers of the submissions the server acknowledged (2xx) and a count of statuses.
    Each submission carries a unique marker in its comment, so the database can be checked one by one.
    """
    acknowledged: list[str] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    paths = {"customer": f"/api/v1/public/waves/{slug}/customer/", "staff": f"/api/v1/public/waves/{slug}/staff/"}

    def client(worker: int) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for n in range(worker, total, threads):
                side = "staff" if n % 4 == 0 else "customer"
                marker = f"burst-{n:05d}"
                answers = as_json(STAFF_ANSWERS if side == "staff" else CUSTOMER_ANSWERS)
                body = {"answers": answers, "comment": marker, "language": "en"}
                try:
                    if side == "staff":  # the staff link stores a post only with its form's single-use ticket
                        body["ticket"] = live_stack.ticket(port, paths[side], conn=conn)
                    status, _ = live_stack.request(port, "POST", paths[side], body, conn=conn)
                except OSError:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status = 0  # not acknowledged
                with lock:
                    statuses[status] += 1
                    if 200 <= status < 300:
                        acknowledged.append(marker)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(client, range(threads)))
    return acknowledged, statuses


def test_a_burst_of_a_thousand_submissions_stores_every_acknowledged_one_exactly_once(org, server):
    port, _media, service = server
    wave = open_wave(org, slug="burst")
    started = time.monotonic()
    acknowledged, statuses = _submit_burst(port, wave.slug, BURST, CLIENT_THREADS)
    elapsed = time.monotonic() - started

    assert not [s for s in statuses if s >= 500 or s == 0], (statuses, service.tail())
    assert statuses == Counter({201: BURST}), statuses  # legitimate traffic: nothing refused either
    stored = Counter(m.SurveyResponse.objects.filter(wave=wave).values_list("comment", flat=True))
    assert set(acknowledged) <= set(stored), "an acknowledged response is missing"
    assert max(stored.values()) == 1, "a submission was stored twice"
    assert sum(stored.values()) == BURST
    staff = BURST // 4
    assert m.SurveyResponse.objects.filter(wave=wave, side="staff").count() == staff
    # Every answer of every response, N/A included (a stored null): nothing half-written.
    assert m.Answer.objects.filter(response__wave=wave).count() == staff * len(STAFF_ANSWERS) + (
        BURST - staff) * len(CUSTOMER_ANSWERS)
    print(f"{BURST} submissions from {CLIENT_THREADS} clients in {elapsed:.1f} s")


def test_concurrent_requests_for_the_same_report_make_one_job_and_one_file(org, owner, server):
    port, media, service = server
    wave = open_wave(org, slug="report-race")
    for _ in range(6):
        services.response_submit(wave=wave, side="staff", answers=as_json(STAFF_ANSWERS), language="en")
        services.response_submit(wave=wave, side="customer", answers=as_json(CUSTOMER_ANSWERS), language="en")
    token = Token.objects.create(user=owner).key
    headers = {"Authorization": f"Token {token}"}
    barrier = threading.Barrier(12)

    def ask(_: int) -> tuple[int, dict]:
        barrier.wait(timeout=30)
        status, body = live_stack.request(port, "POST", f"/api/v1/waves/{wave.pk}/reports/",
                                          {"language": "en"}, headers=headers)
        return status, json.loads(body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(ask, range(12)))
    assert {status for status, _ in answers} == {202}, answers
    assert len({body["id"] for _, body in answers}) == 1
    assert ReportJob.objects.filter(wave=wave).count() == 1

    job_id = answers[0][1]["id"]
    deadline = time.monotonic() + 90
    while True:
        status, body = live_stack.request(port, "GET", f"/api/v1/reports/{job_id}/", headers=headers)
        state = json.loads(body)["status"]
        if state in (ReportStatus.DONE, ReportStatus.FAILED) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state == ReportStatus.DONE, (body, service.tail())
    files = list((media / "reports" / str(wave.pk)).rglob("*.pdf"))
    assert len(files) == 1 and files[0].read_bytes()[:5] == b"%PDF-"
    # Asking again on unchanged data reuses the finished job.
    status, body = live_stack.request(port, "POST", f"/api/v1/waves/{wave.pk}/reports/", {"language": "en"},
                                      headers=headers)
    assert (status, json.loads(body)["id"]) == (202, job_id)
    assert ReportJob.objects.filter(wave=wave).count() == 1
