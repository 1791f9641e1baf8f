"""A bulk load publishes its own rows (``surveys.releases.ImportReleases``): written stamped with the release
they form, so a reader never rewrites them (an UPDATE of every row took 632 s at 10M, bench/NOTES.md).

Runs in the SQLite pass (the ORM path) and the PostgreSQL pass (the binary COPY); the concurrency test is
PostgreSQL's (the wave's row lock).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from reports.counts.sqlite_version import RESET_SHARD
from reports.counts.version import data_version
from reports.models import WaveVersionShard
from surveys import models as m
from surveys import releases, services
from surveys.bulk import BulkResponse, responses_bulk_load
from surveys.errors import Conflict
from tests.surveys.test_public_support import STAFF_ANSWERS, open_wave

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()}


def _imported(wave: m.Wave, side: str, n: int, value: int = 3) -> list[BulkResponse]:
    item = next(iter(services.survey_items(wave=wave, side=side)))
    return [BulkResponse(wave_id=wave.pk, side=side, answers=[(item.pk, value)], language="en") for _ in range(n)]


def _post(wave: m.Wave, n: int) -> list[m.SurveyResponse]:
    return [services.response_submit(wave=wave, side="staff", answers=ANSWERS, language="en") for _ in range(n)]


def _resets(wave: m.Wave) -> int:
    return (WaveVersionShard.objects.filter(wave_id=wave.pk, shard=RESET_SHARD)
            .values_list("version", flat=True).first() or 0)


def _releases(wave: m.Wave) -> list[tuple]:
    return list(m.Release.objects.filter(wave=wave).order_by("side", "number")
                .values_list("side", "number", "n_added", "n_total"))


def _response_updates(queries) -> list[str]:
    table = m.SurveyResponse._meta.db_table
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"]]


@contextmanager
def _import_in_progress(wave: m.Wave, n: int):
    """A bulk load of ``n`` staff rows in another thread (its own connection), stored but not committed while the
    block runs: the wave's row stays locked as during the rest of a long load. Committed when the block ends."""
    loaded, finish = threading.Event(), threading.Event()
    errors: list[str] = []

    def load() -> None:
        try:
            with transaction.atomic():
                responses_bulk_load(_imported(wave, "staff", n))
                loaded.set()
                finish.wait(30)  # the rest of a long load: the lock is held until the commit
        except Exception as exc:  # noqa: BLE001 — any error is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    loader = threading.Thread(target=load)
    loader.start()
    try:
        assert loaded.wait(30), errors
        yield
    finally:
        finish.set()
        loader.join()
    assert errors == []


def test_an_import_of_k_per_side_is_its_own_release_numbered_after_the_last_and_nothing_is_rewritten(org):
    wave = open_wave(org, slug="stamped")
    ks, kc = releases.threshold(wave, "staff"), releases.threshold(wave, "customer")
    _post(wave, ks)
    releases.publish_due(wave)
    assert _releases(wave) == [("staff", 1, ks, ks)]
    colleague = _post(wave, 1)[0]  # a posted answer waiting for the next release
    version, resets = data_version(wave), _resets(wave)

    rows = _imported(wave, "staff", ks + 2) + _imported(wave, "customer", kc)
    with CaptureQueriesContext(connection) as load:
        assert responses_bulk_load(rows) == ks + 2 + kc
    assert _response_updates(load.captured_queries) == []  # the rows were written stamped
    assert _releases(wave) == [("customer", 1, kc, kc), ("staff", 1, ks, ks), ("staff", 2, ks + 2, 2 * ks + 2)]
    stamped = dict(m.SurveyResponse.objects.filter(pk__in=[r.id for r in rows]).values_list("pk", "release"))
    assert stamped == {r.id: (2 if r.side == "staff" else 1) for r in rows}
    colleague.refresh_from_db()
    assert colleague.release is None  # not in the import's release: it waits for k others, as before
    assert data_version(wave) > version and _resets(wave) == resets

    with CaptureQueriesContext(connection) as read:
        shown = releases.publish_due(wave)
    assert _response_updates(read.captured_queries) == []  # the first read publishes nothing more
    assert (shown["staff"].number, shown["staff"].n_published) == (2, 2 * ks + 2)
    assert (shown["customer"].number, shown["customer"].n_published) == (1, kc)


def test_a_side_below_k_waits_unstamped_and_the_kept_reset_counter_stays(org):
    """Batches of 2: the customers reach k in a later batch (their first rows are stamped then, by id: rows
    still waiting, which the reset triggers ignore); the staff never do and are written waiting, never
    stamped and set back (which would move the reset counter and retire the kept tables)."""
    wave = open_wave(org, slug="below")
    ks, kc = releases.threshold(wave, "staff"), releases.threshold(wave, "customer")
    resets = _resets(wave)
    rows = _imported(wave, "customer", kc + 1) + _imported(wave, "staff", ks - 1)
    with CaptureQueriesContext(connection) as load:
        responses_bulk_load(rows, batch_size=2)
    updates = _response_updates(load.captured_queries)
    assert len(updates) == 1 and "IS NULL" in updates[0]  # the customers' first rows, still waiting
    assert _releases(wave) == [("customer", 1, kc + 1, kc + 1)]
    by_side = {side: set(m.SurveyResponse.objects.filter(wave=wave, side=side).values_list("release", flat=True))
               for side in ("staff", "customer")}
    assert by_side == {"staff": {None}, "customer": {1}}
    assert _resets(wave) == resets

    # The waiting imported staff rows never make up the k of posted answers (the padding test below): one
    # post releases nothing; k posted answers release them all together.
    releases.publish_due(wave)
    assert not m.Release.objects.filter(wave=wave, side="staff").exists()
    _post(wave, 1)
    releases.publish_due(wave)
    assert not m.Release.objects.filter(wave=wave, side="staff").exists()
    _post(wave, ks - 1)
    releases.publish_due(wave)
    assert m.Release.objects.get(wave=wave, side="staff").n_added == 2 * ks - 1
    assert _resets(wave) == resets


def test_a_posted_answer_is_never_in_an_imports_release(org):
    """P4 attacker: an administrator imports k rows whose answers they know while a colleague's answer waits.
    If the colleague's answer were in that release, the release minus the known rows would be it."""
    wave = open_wave(org, slug="padding")
    ks = releases.threshold(wave, "staff")
    colleague = services.response_submit(wave=wave, side="staff", answers=ANSWERS,
                                         language="en")
    responses_bulk_load(_imported(wave, "staff", ks, value=1))
    shown = releases.publish_due(wave)["staff"]
    assert (shown.number, shown.n_published) == (1, ks)
    colleague.refresh_from_db()
    assert colleague.release is None
    published = m.SurveyResponse.objects.filter(wave=wave, side="staff", release__isnull=False)
    assert colleague.pk not in set(published.values_list("pk", flat=True))


def test_a_failed_load_makes_no_release(org):
    wave = open_wave(org, slug="failed")
    ks = releases.threshold(wave, "staff")
    rows = _imported(wave, "staff", ks + 1)
    rows[-1].submitted_at = datetime(2026, 5, 1, tzinfo=UTC)  # a staff row with a time: the database refuses it
    with pytest.raises(Exception, match="response_staff_unlinkable"):
        responses_bulk_load(rows, batch_size=2)
    assert _releases(wave) == [] and not m.SurveyResponse.objects.filter(wave=wave).exists()


@pytest.mark.postgres_only
def test_a_reader_during_a_long_import_shows_the_current_release_at_once_and_publishes_after(org):
    """The import holds the wave's row lock until it commits; a reader with k posts waiting meanwhile waits
    for it no longer than LOCK_WAIT_MS and shows the release it had; the next read after the commit publishes
    them."""
    wave = open_wave(org, slug="long-import")
    ks = releases.threshold(wave, "staff")
    with _import_in_progress(wave, ks + 1):
        _post(wave, ks)  # posts go on meanwhile (their foreign-key check does not conflict with the lock)
        began = time.perf_counter()
        shown = releases.publish_due(wave)["staff"]
        waited = time.perf_counter() - began
        assert releases.LOCK_WAIT_MS / 1000 <= waited < releases.LOCK_WAIT_MS / 1000 + 1.5, waited
        assert (shown.number, shown.n_published) == (0, 0)  # nothing partial: the import is not visible yet
        assert not m.Release.objects.filter(wave=wave).exists()
    assert _releases(wave) == [("staff", 1, ks + 1, ks + 1)]  # the import's, committed
    shown = releases.publish_due(wave)["staff"]
    assert (shown.number, shown.n_published) == (2, 2 * ks + 1)
    assert _releases(wave) == [("staff", 1, ks + 1, ks + 1), ("staff", 2, ks, 2 * ks + 1)]
    for number, added in ((1, ks + 1), (2, ks)):  # each release holds exactly what it says
        assert m.SurveyResponse.objects.filter(wave=wave, side="staff", release=number).count() == added


def test_an_internal_waves_rows_are_written_waiting_and_released_per_department_by_a_read(org):
    """Internal waves release per serving department (surveys/internal.py): a load leaves that to publish_due."""
    from tests.internal.conftest import make_internal_wave

    wave = make_internal_wave(org, k=3).wave
    item = next(iter(services.survey_items(wave=wave, side="staff")))
    rows = [BulkResponse(wave_id=wave.pk, side="staff", answers=[(item.pk, 3)], language="en",
                         served_department=department) for department in ("hr",) * 4 + ("it",) * 2]
    with CaptureQueriesContext(connection) as load:
        responses_bulk_load(rows)
    assert not any("FOR NO KEY UPDATE" in q["sql"] for q in load.captured_queries)  # no lock, no release
    assert _releases(wave) == []
    assert set(m.SurveyResponse.objects.filter(wave=wave).values_list("release", flat=True)) == {None}
    releases.publish_due(wave, department="hr")
    assert list(m.Release.objects.filter(wave=wave).values_list("served_department", "n_added")) == [("hr", 4)]


def _import_staff(wave: m.Wave, n: int, value: str = "1") -> None:
    """``n`` staff rows through the import an analyst or admin runs (a CSV), answers the importer knows."""
    from surveys.imports.responses import import_responses

    rows = "".join(f"{value},na,{value}\n" for _ in range(n))
    result = import_responses(wave=wave, side="staff", data=f"superior,everyone,quick\n{rows}".encode(),
                              filename="known.csv")
    assert result.created == n


def test_padding_attack_k_minus_one_imported_rows_never_release_a_colleagues_posted_answer(org):
    """P4 with P5's padding, the importer's route: an insider imports k − 1 staff rows whose answers they chose,
    waits for one colleague to answer, and reads the colleague's answer as the new release minus their own
    rows. The imported rows must not make up the k of a release that holds a posted answer: only k posted
    answers release them (then the unknown answers in the release are at least k)."""
    wave = open_wave(org, slug="padded")
    ks = releases.threshold(wave, "staff")
    _import_staff(wave, ks - 1)
    colleague = _post(wave, 1)[0]
    shown = releases.publish_due(wave)["staff"]
    assert (shown.number, shown.n_published) == (0, 0)
    colleague.refresh_from_db()
    assert colleague.release is None  # the old rule published k − 1 known rows + the colleague: the answer shown
    assert not m.Release.objects.filter(wave=wave, side="staff").exists()

    _post(wave, ks - 2)
    assert releases.publish_due(wave)["staff"].number == 0  # k − 1 posted: still nothing
    _post(wave, 1)
    shown = releases.publish_due(wave)["staff"]  # k posted: everything waiting, the imported rows with them
    assert (shown.number, shown.n_published) == (1, 2 * ks - 1)
    assert not m.SurveyResponse.objects.filter(wave=wave, side="staff", release__isnull=True).exists()


def test_small_imports_that_add_up_to_k_are_released_without_the_posted_answers_waiting(org):
    """Imports below k each wait; together they reach k and go out as a release of imported rows only, while a
    colleague's posted answer keeps waiting for k posted ones (it is never the one unknown row of a release)."""
    wave = open_wave(org, slug="pieces")
    ks = releases.threshold(wave, "staff")
    colleague = _post(wave, 1)[0]
    _import_staff(wave, ks - 2)
    assert releases.publish_due(wave)["staff"].number == 0
    _import_staff(wave, 2, value="5")
    shown = releases.publish_due(wave)["staff"]
    assert (shown.number, shown.n_published) == (1, ks)
    released = m.SurveyResponse.objects.filter(wave=wave, side="staff", release=1)
    assert set(released.values_list("channel", flat=True)) == {m.Channel.IMPORT}
    colleague.refresh_from_db()
    assert colleague.release is None


@pytest.mark.postgres_only
def test_a_report_request_during_a_long_import_is_queued_at_once(org):
    """The import holds the wave's row lock until it commits (minutes for millions of rows). Asking for a report
    of that wave meanwhile must not wait for it: the report request is a web request with a timeout."""
    from reports.jobs import report_job_request

    wave = open_wave(org, slug="import-report")
    ks = releases.threshold(wave, "staff")
    with _import_in_progress(wave, ks + 1):
        began = time.perf_counter()
        job, created = report_job_request(wave=wave, language="en", dispatch=False)
        waited = time.perf_counter() - began
        again, created_again = report_job_request(wave=wave, language="en", dispatch=False)
        # An edit of the wave cannot go on before the import commits: a clear 409 within a bound, not a wait.
        began = time.perf_counter()
        with pytest.raises(Conflict) as refused:
            services.wave_set_status(wave=wave, status="closed")
        refused_after = time.perf_counter() - began
    assert waited < 5, waited  # the old lock waited for the import's commit (30 s here)
    assert created and (again.pk, created_again) == (job.pk, False)  # identical requests still make one job
    assert refused.value.code == "wave_busy" and refused_after < 10, refused_after
    assert services.wave_set_status(wave=wave, status="closed").status == "closed"  # after the commit it goes on


@pytest.mark.postgres_only
def test_the_admins_wave_form_says_the_wave_is_busy_during_an_import_instead_of_failing(org, monkeypatch):
    """The admin saves a wave through wave_update, which refuses with a Conflict while an import holds the wave:
    the form must show that beside the data the admin entered (a 500 from save_model otherwise)."""
    import json

    from django.forms.models import model_to_dict

    from surveys.admin import WaveAdminForm
    from surveys.services import waves as wave_services

    monkeypatch.setattr(wave_services, "WAVE_EDIT_WAIT_MS", 300)
    wave = open_wave(org, slug="import-admin")
    data = {name: (json.dumps(value) if isinstance(value, list | dict) else value)
            for name, value in model_to_dict(wave, fields=WaveAdminForm.Meta.fields).items() if value is not None}
    data["name"] = "Renamed during the import"
    with transaction.atomic():
        assert WaveAdminForm(data=data, instance=wave).is_valid()  # the same data is good when nobody holds it
        transaction.set_rollback(True)

    with _import_in_progress(wave, releases.threshold(wave, "staff") + 1):
        with transaction.atomic():
            form = WaveAdminForm(data=data, instance=m.Wave.objects.get(pk=wave.pk))
            assert not form.is_valid()
            assert any("busy" in e for e in form.non_field_errors()), form.errors
            assert form.data["name"] == "Renamed during the import"  # what the admin typed stays on the form
    assert m.Wave.objects.get(pk=wave.pk).name != "Renamed during the import"
