"""Kept count tables under concurrent posts, releases and reads, and after a reader dies before its commit.

PostgreSQL with committed data (``transaction=True``): real threads with their own connections, and a real
process killed with SIGKILL while it holds the kept row's lock with its update written but not committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from reports.counts import data_version, kept, wave_counts_compute
from reports.models import KeptCounts
from surveys import models as m
from surveys import releases, services
from tests.gap.conftest import build_instrument, fill_wave
from tests.gap.test_onepass import _assert_same
from tests.security import live_stack

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_wave():
    org = m.Organization.objects.create(name="Kept Live", slug="kept-live", display_name_en="Kept",
                                        display_name_ja="キープ")
    wave = services.wave_create(organization=org, instrument=build_instrument(org), name="KL", slug="kept-live")
    services.wave_open(wave=wave)
    return wave


def _per_side(counts) -> dict[str, int]:
    frame = counts.responses
    return {side: int(frame.loc[frame.side == side, "n"].sum()) for side in ("staff", "customer")}


def test_concurrent_posts_releases_status_changes_and_reads_count_every_release_exactly_once(live_wave):
    wave_pk = live_wave.pk
    errors: list[BaseException] = []
    seen: list[dict[str, int]] = []
    posting = threading.Event()
    posting.set()

    def poster(seed: int) -> None:
        try:
            wave = m.Wave.objects.get(pk=wave_pk)
            for step in range(4):
                fill_wave(wave, seed=seed * 100 + step, n_staff=3, n_customer=4)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connection.close()

    def reader() -> None:
        try:
            wave = m.Wave.objects.get(pk=wave_pk)
            while posting.is_set():
                releases.publish_due(wave)
                seen.append(_per_side(kept.kept_counts(wave, data_version(wave))))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def mover() -> None:
        """Account statuses change meanwhile (a CRM sync): logged moves the readers apply."""
        try:
            wave = m.Wave.objects.get(pk=wave_pk)
            flips = 0
            while posting.is_set() or flips < 3:
                ids = list(m.CustomerAccount.objects.filter(organization_id=wave.organization_id)
                           .order_by("?").values_list("pk", flat=True)[:3])
                m.CustomerAccount.objects.filter(pk__in=ids).update(status=("churned", "active", "renewed")[flips % 3])
                flips += 1
                time.sleep(0.05)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    posters = [threading.Thread(target=poster, args=(s,)) for s in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)] + [threading.Thread(target=mover)]
    for t in posters + readers:
        t.start()
    for t in posters:
        t.join(timeout=300)
    posting.clear()
    for t in readers:
        t.join(timeout=300)
    assert not errors, errors
    assert len(seen) >= 4
    wave = m.Wave.objects.get(pk=wave_pk)
    # Every read showed the sum of whole releases: one of the totals a release of that side published.
    totals = {side: {0, *m.Release.objects.filter(wave=wave, side=side).values_list("n_total", flat=True)}
              for side in ("staff", "customer")}
    for shown in seen:
        for side, n in shown.items():
            assert n in totals[side], (side, n, sorted(totals[side]))
    releases.publish_due(wave)
    final = kept.kept_counts(wave, data_version(wave))
    _assert_same(final, wave_counts_compute(wave))
    assert KeptCounts.objects.get(wave=wave).responses == wave.responses.exclude(release=None).count() > 0


_READER = """
import django
django.setup()
from reports.counts import data_version, kept
from surveys.models import Wave
wave = Wave.objects.get(pk={pk})
kept.kept_counts(wave, data_version(wave))
print("not killed")
"""


def test_a_reader_killed_between_its_update_and_its_commit_leaves_the_kept_tables_as_they_were(live_wave,
                                                                                              tmp_path: Path):
    wave = live_wave
    fill_wave(wave, seed=1, n_staff=7, n_customer=8)
    releases.publish_due(wave)
    kept.kept_counts(wave, data_version(wave))
    before = KeptCounts.objects.get(wave=wave)
    fill_wave(wave, seed=2, n_staff=6, n_customer=9)
    releases.publish_due(wave)
    with connection.cursor() as cursor:  # the reader's UPDATE of the kept row stalls inside its transaction
        cursor.execute("CREATE FUNCTION kagami_test_stall() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$")
        cursor.execute("CREATE TRIGGER kagami_test_stall AFTER UPDATE ON reports_keptcounts "
                       "FOR EACH ROW EXECUTE FUNCTION kagami_test_stall()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # The server notices the dead client while the statement runs (else only when it next writes to it).
    env.update(DJANGO_SETTINGS_MODULE="backend.settings_test", DATABASE_URL=live_stack.tests_database_url(),
               PGOPTIONS="-c client_connection_check_interval=100")
    log = tmp_path / "reader.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", _READER.format(pk=wave.pk)], cwd=live_stack.ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        backend = None
        deadline = time.monotonic() + 90
        while backend is None and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                               "AND query LIKE 'UPDATE %%reports_keptcounts%%'")
                row = cursor.fetchone()
            backend = row[0] if row else None
            time.sleep(0.05)
        assert backend is not None, "the reader never reached its update"
        os.kill(proc.pid, signal.SIGKILL)  # the crash: after the UPDATE, before the COMMIT
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
                if cursor.fetchone()[0] == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the server kept the dead reader's transaction")
    finally:
        if proc.poll() is None:
            proc.kill()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS kagami_test_stall ON reports_keptcounts")
            cursor.execute("DROP FUNCTION IF EXISTS kagami_test_stall()")
    assert "not killed" not in log.read_text()
    after = KeptCounts.objects.get(wave=wave)
    assert (after.revision, after.basis, after.responses) == (before.revision, before.basis, before.responses)
    _assert_same(kept.kept_counts(wave, data_version(wave)), wave_counts_compute(wave))
    assert KeptCounts.objects.get(wave=wave).revision == before.revision + 1
    connections.close_all()
