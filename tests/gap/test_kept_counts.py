"""Kept count tables (reports.counts.kept) equal a rescan of the wave: release by release, after every kind of
edit that must retire them, and on both databases (this module runs in the SQLite and the PostgreSQL pass).

The concurrency and crash tests are in tests/gap/test_kept_counts_live.py (PostgreSQL, committed data).
"""

from __future__ import annotations

import pytest

from reports.counts import data_version, kept, wave_counts_compute
from reports.counts.sqlite_version import RESET_SHARD
from reports.models import AccountMove, KeptCounts, WaveVersionShard
from surveys import models as m
from surveys import releases
from tests import factories as f
from tests.gap.conftest import fill_wave
from tests.gap.test_onepass import _assert_same, _canon


def assert_equal_to_rescan(wave: m.Wave) -> None:
    got = kept.kept_counts(wave, data_version(wave))
    ref = wave_counts_compute(wave)
    _assert_same(got, ref)
    assert _canon(got.account_sums) == _canon(ref.account_sums)


def _spans(monkeypatch) -> list:
    """Every span the kept tables read (the real reader still runs)."""
    seen = []
    real = kept.read_span

    def spy(wave, span):
        seen.append(span)
        return real(wave, span)

    monkeypatch.setattr(kept, "read_span", spy)
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_release_by_release_the_kept_tables_equal_a_rescan_and_read_only_the_new_release(fresh_wave, seed,
                                                                                         monkeypatch):
    assert kept.installed()
    spans = _spans(monkeypatch)
    wave = fresh_wave
    assert_equal_to_rescan(wave)  # no response yet: empty tables, kept at release 0
    for step in range(4):
        # Uneven sides: some steps leave one side below its k, so only the other side is released.
        fill_wave(wave, seed=seed * 10 + step, n_staff=(0, 6, 2, 7)[step], n_customer=(5, 3, 8, 1)[step])
        before = dict(KeptCounts.objects.get(wave=wave).basis)
        releases.publish_due(wave)
        assert_equal_to_rescan(wave)
        row = KeptCounts.objects.get(wave=wave)
        highest = {side: max(wave.responses.filter(side=side).exclude(release=None)
                             .values_list("release", flat=True), default=0) for side in ("staff", "customer")}
        assert row.basis == highest
        assert row.responses == wave.responses.exclude(release=None).count()
        if row.basis != before:  # the read after a release read that release only
            assert spans[-1].after == before and spans[-1].upto == highest
    assert KeptCounts.objects.get(wave=wave).basis["customer"] >= 2  # several releases were added, not rescanned


def _published_wave(wave: m.Wave) -> m.Wave:
    fill_wave(wave, seed=5, n_staff=8, n_customer=10)
    releases.publish_due(wave)
    assert_equal_to_rescan(wave)
    return wave


def _resets(wave) -> int:
    shard = WaveVersionShard.objects.filter(wave_id=wave.pk, shard=RESET_SHARD)
    return shard.values_list("version", flat=True).first() or 0


def test_editing_a_published_response_retires_the_kept_tables(fresh_wave):
    wave = _published_wave(fresh_wave)
    before = _resets(wave)
    response = wave.responses.filter(side="customer").exclude(release=None).first()
    m.SurveyResponse.objects.filter(pk=response.pk).update(weight=9.5)
    assert _resets(wave) > before
    assert_equal_to_rescan(wave)


def test_changing_or_removing_an_answer_of_a_published_response_retires_them(fresh_wave):
    wave = _published_wave(fresh_wave)
    answer = m.Answer.objects.filter(response__wave=wave, response__side="staff", value__isnull=False).first()
    before = _resets(wave)
    f.set_answers(answer.response, {answer.item_id: 1 if answer.value != 1 else 5})
    assert _resets(wave) > before
    assert_equal_to_rescan(wave)
    f.drop_answer(answer.response, answer.item_id)
    assert_equal_to_rescan(wave)


def test_deleting_a_published_response_retires_them(fresh_wave):
    wave = _published_wave(fresh_wave)
    before = _resets(wave)
    wave.responses.filter(side="staff").exclude(release=None).first().delete()
    assert _resets(wave) > before
    assert_equal_to_rescan(wave)


def test_an_account_changing_status_moves_only_its_responses_and_its_health_is_read_fresh(fresh_wave, monkeypatch):
    wave = _published_wave(fresh_wave)
    spans = _spans(monkeypatch)
    accounts = list(m.CustomerAccount.objects.filter(responses__wave=wave).distinct().order_by("pk"))
    account = accounts[0]
    before = _resets(wave)
    m.CustomerAccount.objects.filter(pk=account.pk).update(health_score=42)  # no status change: nothing moves
    got = kept.kept_counts(wave, data_version(wave))
    assert set(got.accounts.loc[got.accounts.account_id == account.pk, "health"]) == {42}
    assert spans == []
    other = "churned" if account.status != "churned" else "active"
    m.CustomerAccount.objects.filter(pk=account.pk).update(status=other)
    assert _resets(wave) == before  # logged as a move, not a reset
    assert_equal_to_rescan(wave)
    assert [s.accounts for s in spans] == [(account.pk,)]  # only the moved account's responses were read
    # Several moves at once, one account moved twice (back to where it was counted: nothing to move for it),
    # another twice to a third status, in one statement and in several.
    m.CustomerAccount.objects.filter(pk=account.pk).update(status=account.status)
    m.CustomerAccount.objects.filter(pk__in=[a.pk for a in accounts[1:]]).update(status="renewed")
    m.CustomerAccount.objects.filter(pk=accounts[1].pk).update(status="churned")
    assert_equal_to_rescan(wave)
    assert KeptCounts.objects.get(wave=wave).moves_seen == AccountMove.objects.order_by("-id").first().id


def test_an_account_move_and_a_release_together(fresh_wave):
    wave = _published_wave(fresh_wave)
    fill_wave(wave, seed=21, n_staff=6, n_customer=7)
    account = m.CustomerAccount.objects.filter(responses__wave=wave).distinct().first()
    m.CustomerAccount.objects.filter(pk=account.pk).update(status="churned" if account.status != "churned"
                                                           else "active")
    releases.publish_due(wave)
    assert_equal_to_rescan(wave)


def test_a_retired_item_or_a_new_segment_field_changes_the_signature(fresh_wave):
    wave = _published_wave(fresh_wave)
    signed = kept.signature(wave)
    item = m.ItemPair.objects.get(instrument=wave.instrument, key="s2")
    from django.utils import timezone

    m.ItemPair.objects.filter(pk=item.pk).update(retired_at=timezone.now())
    assert kept.signature(wave) != signed
    assert_equal_to_rescan(wave)
    assert KeptCounts.objects.get(wave=wave).signature == kept.signature(wave)
    signed = kept.signature(wave)
    wave.customer_segment_fields = [*wave.customer_segment_fields, {"key": "industry", "label_en": "Industry",
                                                                    "label_ja": "業種", "choices": []}]
    wave.save()
    assert kept.signature(wave) != signed
    assert_equal_to_rescan(wave)


def test_releasing_and_new_waiting_responses_do_not_retire_them(fresh_wave):
    """Additions are what the kept tables absorb: a post (waiting) and a release move the data version, not the
    reset counter, so the next read adds instead of rescanning."""
    wave = _published_wave(fresh_wave)
    before = _resets(wave)
    fill_wave(wave, seed=9, n_staff=6, n_customer=6)
    releases.publish_due(wave)
    assert _resets(wave) == before
    assert_equal_to_rescan(wave)


def test_an_import_that_publishes_itself_is_added_and_a_side_below_k_retires_nothing(fresh_wave, monkeypatch):
    """A bulk load writes its rows stamped with its own release (surveys.releases.ImportReleases): the kept
    tables add that release like any other, and a side with fewer than k imported rows (written waiting, its
    first rows never stamped and set back) leaves the reset counter where it was."""
    import random

    from surveys import services
    from surveys.bulk import BulkResponse, responses_bulk_load

    wave = _published_wave(fresh_wave)
    spans = _spans(monkeypatch)
    before, resets = dict(KeptCounts.objects.get(wave=wave).basis), _resets(wave)
    rng = random.Random(4)
    items = {side: list(services.survey_items(wave=wave, side=side)) for side in ("staff", "customer")}
    segments = {"staff": [{"department": "Sales"}, {"department": "Support"}], "customer": [{"tier": "Gold"}]}

    def rows(side: str, n: int) -> list[BulkResponse]:
        return [BulkResponse(wave_id=wave.pk, side=side, segments=rng.choice(segments[side]), language="en",
                             answers=[(i.pk, None if i.allow_na and rng.random() < 0.1
                                       else rng.randint(i.scale_min, i.scale_max)) for i in items[side]])
                for _ in range(n)]

    ks, kc = releases.threshold(wave, "staff"), releases.threshold(wave, "customer")
    responses_bulk_load(rows("staff", ks + 4) + rows("customer", kc - 1), batch_size=3)
    assert _resets(wave) == resets
    assert_equal_to_rescan(wave)
    row = KeptCounts.objects.get(wave=wave)
    assert row.basis == {"staff": before["staff"] + 1, "customer": before["customer"]}
    assert spans[-1].after == before and spans[-1].upto == row.basis  # the import's release read alone
    assert m.Release.objects.get(wave=wave, side="staff", number=row.basis["staff"]).n_added == ks + 4


def test_a_row_written_by_another_reader_meanwhile_is_not_overwritten(fresh_wave):
    """Two readers add the same release: the second finds the row's revision moved and keeps the first's row."""
    wave = _published_wave(fresh_wave)
    row = KeptCounts.objects.get(wave=wave)
    fill_wave(wave, seed=11, n_staff=6, n_customer=6)
    releases.publish_due(wave)
    counts = kept.kept_counts(wave, data_version(wave))  # the first reader: revision + 1
    moved = KeptCounts.objects.get(wave=wave)
    assert moved.revision == row.revision + 1
    kept._keep(wave, row, counts, dict(row.basis), row.signature, row.resets, row.moves_seen)  # a late reader
    assert KeptCounts.objects.get(wave=wave).revision == moved.revision
    assert KeptCounts.objects.get(wave=wave).basis == moved.basis


def test_a_span_read_is_two_index_ranges_not_a_filter_over_the_wave(fresh_wave):
    """The read of the releases since the kept basis must be bounded by the (wave, side, release) index.

    A CASE over the side once hid the release bounds from PostgreSQL's planner: the read of one new release
    of a million-response wave filtered every row of the wave (about a second; bench/NOTES.md).
    """
    from django.db import connection

    from reports.counts.pgcopy import packed_sql
    from reports.counts.tables import ReleaseSpan

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    for step in range(6):
        fill_wave(fresh_wave, seed=step, n_staff=20, n_customer=30)
        releases.publish_due(fresh_wave)
    top = kept.high_water(fresh_wave)
    assert min(top.values()) >= 6
    span = ReleaseSpan(after={side: n - 1 for side, n in top.items()}, upto=top)
    sql, params = packed_sql(fresh_wave, span)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE surveys_surveyresponse")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    conditions = []

    def walk(node):
        if "Index Cond" in node:
            conditions.append(node["Index Cond"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"] if isinstance(plan, list) else plan)
    bounded = [c for c in conditions if "release >" in c and "release <=" in c]
    assert len(bounded) == 2, conditions  # one range per side, each on the index
