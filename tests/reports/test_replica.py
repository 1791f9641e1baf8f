"""The gap's count read on a real PostgreSQL streaming replica, lag included (README → Past one machine).

Runs only where scripts/with_postgres.sh started a standby (KAGAMI_TEST_REPLICA=1, the short extra step of
scripts/run_tests.sh's PostgreSQL pass). Replay is paused on the standby (``pg_wal_replay_pause()``) to make
it lag for as long as a test needs: the primary then holds data the replica has not seen, which is how a
read is shown to have come from the replica, and how a read under a newer version is shown never to return
the replica's older data. Rows are committed (``transaction=True``): replication sees nothing else.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from backend import db_router
from reports import counts
from reports.counts.replica import counts_on_replica, replica_version
from reports.gap import GapView, gap_result
from surveys import models as m
from surveys import releases, services
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, as_json, open_wave

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif("replica" not in settings.DATABASES, reason="no streaming replica (KAGAMI_TEST_REPLICA=1)"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def standby():
    """A superuser connection to the standby itself (not through Django), to pause and resume its replay."""
    s = settings.DATABASES["replica"]
    conn = psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname="postgres", autocommit=True)
    try:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0], "KAGAMI_REPLICA_DATABASE_URL is no standby"
        yield conn
    finally:
        conn.execute("SELECT pg_wal_replay_resume()")
        conn.close()


def _submit(wave: m.Wave, n: int) -> None:
    for _ in range(n):
        services.response_submit(wave=wave, side="staff", answers=as_json(STAFF_ANSWERS), language="en")
        services.response_submit(wave=wave, side="customer", answers=as_json(CUSTOMER_ANSWERS), language="en")
    releases.publish_due(wave)


def _respondents(table: counts.WaveCounts) -> dict[str, int]:
    return table.responses.groupby("side").n.sum().astype(int).to_dict()


def _caught_up(wave: m.Wave) -> int:
    """Wait until the replica has replayed the wave's current version (the primary commits asynchronously)."""
    version = counts.data_version(wave)
    deadline = time.monotonic() + 20
    while replica_version(wave, "replica") < version:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.05)
    return version


def test_the_count_read_goes_to_the_replica_and_never_shows_data_older_than_its_version(org, standby):
    wave = open_wave(org, slug="replica-lag")
    _submit(wave, 6)
    old = _caught_up(wave)
    cache.clear()

    # Caught up: wave_counts reads on the replica. The ORM reads of the count read ran there (the COPY
    # itself goes to the same connection, below Django's query log).
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert _respondents(counts.wave_counts(wave)) == {"staff": 6, "customer": 6}
    sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "REPEATABLE READ" in sql and "surveys_itempair" in sql, sql

    # Lag: replay paused, then six more of each committed and published on the primary.
    standby.execute("SELECT pg_wal_replay_pause()")
    _submit(wave, 6)
    new = counts.data_version(wave)
    assert new > old
    assert replica_version(wave, "replica") == old  # the replica is really behind

    # Claiming the old version, the replica's read is allowed, and it is the replica's data, not the primary's
    # (proof that the read happened there): 6 + 6, where the primary now holds 12 + 12.
    read = counts_on_replica(wave, old, counts.wave_counts_compute)
    assert read is not None and read[1] == old and _respondents(read[0]) == {"staff": 6, "customer": 6}

    # Claiming the new version: the replica is refused after waiting at most KAGAMI_REPLICA_MAX_WAIT_MS ...
    began = time.monotonic()
    assert counts_on_replica(wave, new, counts.wave_counts_compute) is None
    waited = time.monotonic() - began
    assert settings.KAGAMI_REPLICA_MAX_WAIT_MS / 1000 <= waited < settings.KAGAMI_REPLICA_MAX_WAIT_MS / 1000 + 2
    # ... so the gap and the report (the same gap_result) show the new data, read on the primary.
    cache.clear()
    assert _respondents(counts.wave_counts(wave)) == {"staff": 12, "customer": 12}
    cache.clear()
    assert gap_result(wave, GapView(segments=False))["response_counts"] == {"staff": 12, "customer": 12}

    # Replay resumed: once it has caught up the replica serves the new version too.
    standby.execute("SELECT pg_wal_replay_resume()")
    assert _caught_up(wave) == new
    read = counts_on_replica(wave, new, counts.wave_counts_compute)
    assert read is not None and read[1] == new and _respondents(read[0]) == {"staff": 12, "customer": 12}


def test_writes_never_go_to_the_replica_and_a_refusing_replica_falls_back_to_the_primary(org):
    wave = open_wave(org, slug="replica-writes")
    _submit(wave, 6)
    _caught_up(wave)
    with db_router.replica_reads():
        assert router.db_for_read(m.SurveyResponse) == "replica"
        assert router.db_for_write(m.SurveyResponse) == "default"
        # An ORM write inside the replica scope is made on the primary (it would fail on a standby).
        services.response_submit(wave=wave, side="staff", answers=as_json(STAFF_ANSWERS), language="en")
    assert router.db_for_read(m.SurveyResponse) == "default"
    assert m.SurveyResponse.objects.using("default").filter(wave=wave).count() == 13

    # The replica refuses writes itself; a compute that fails there (any database error) makes the read
    # fall back to the primary instead of failing the request.
    def writes(w: m.Wave):
        with connections["replica"].cursor() as cursor:
            cursor.execute("INSERT INTO reports_waveversionshard (wave_id, shard, version) VALUES (%s, 0, 1)", [w.pk])

    assert counts_on_replica(wave, 0, writes) is None
    cache.clear()
    assert _respondents(counts.wave_counts(wave)) == {"staff": 6, "customer": 6}
