"""The bulk loader's column batches (``surveys.bulk.ResponseColumns``, a binary COPY built by numpy on PostgreSQL,
the ORM on SQLite) store what the form path stores for the same responses: the same rows, the same packed bytes,
a data version that moves, and the same gap. And bad columns are refused by name, with nothing kept."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from reports.counts.version import data_version
from surveys import models as m
from surveys import releases, services
from surveys.bulk import ResponseColumns, responses_bulk_load
from tests.gap.conftest import build_instrument
from tests.surveys.twins import differences, gap_of

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_FIELDS = [{"key": "department", "label_en": "Dept", "label_ja": "部署", "choices": []}]
CUSTOMER_FIELDS = [{"key": "tier", "label_en": "Tier", "label_ja": "ティア", "choices": []}]


@pytest.fixture
def twin_waves(org) -> tuple[m.Wave, m.Wave]:
    """Two open waves of one instrument (so the same item ids): one loaded by columns, one by form posts."""
    inst = build_instrument(org)
    for i in range(3):
        m.CustomerAccount.objects.create(organization=org, external_id=f"A-{i}", tier="Gold", status="active")
    return tuple(services.wave_open(wave=services.wave_create(
        organization=org, instrument=inst, name=f"W{k}", slug=f"columns-w{k}", staff_segment_fields=STAFF_FIELDS,
        customer_segment_fields=CUSTOMER_FIELDS)) for k in (1, 2))


def _columns(wave: m.Wave, *, seed: int, n: int) -> ResponseColumns:
    """Random responses of both sides: N/A, unanswered items (empty slots anywhere), weights, accounts, days."""
    rng = random.Random(seed)
    items = {side: list(services.survey_items(wave=wave, side=side)) for side in ("staff", "customer")}
    width = max(len(v) for v in items.values())
    accounts = list(m.CustomerAccount.objects.filter(organization=wave.organization).values_list("pk", flat=True))
    segments = [{"department": "営業"}, {"department": 'Sup"port \\ 1'}, {"tier": "Gold"}, {"tier": "シルバー"}]
    item_ids, values = np.zeros((n, width), dtype=np.int64), np.zeros((n, width), dtype=np.int64)
    side, codes, weight, account, times = [], [], [], [], []
    for r in range(n):
        s = "staff" if r % 3 == 0 else "customer"
        side.append(s)
        slots = rng.sample(range(width), len(items[s]))
        for slot, item in zip(slots, items[s], strict=False):
            if rng.random() < 0.85 or item is items[s][0]:  # some items unanswered; never a response with none
                item_ids[r, slot] = item.pk
                values[r, slot] = -1 if item.allow_na and rng.random() < 0.1 else rng.randint(item.scale_min,
                                                                                              item.scale_max)
        codes.append(rng.choice([0, 1]) if s == "staff" else rng.choice([2, 3]))
        weight.append(np.nan if s == "staff" else rng.choice([np.nan, 0.5, 2.0]))
        account.append(0 if s == "staff" or r % 2 else rng.choice(accounts))
        times.append(np.datetime64("NaT") if s == "staff" else np.datetime64(datetime(2026, 5, 1, 9, r % 60)))
    return ResponseColumns(
        wave_id=wave.pk, ids=np.frombuffer(rng.randbytes(16 * n), dtype=np.uint8).reshape(n, 16), side=np.array(side),
        items=item_ids, values=values, segments=segments, segment_codes=np.array(codes),
        submitted_on=np.array([f"2026-05-{1 + r % 20:02d}" for r in range(n)], dtype="datetime64[D]"),
        weight=np.array(weight), customer_account_id=np.array(account), submitted_at=np.array(times, "datetime64[us]"),
        language="en", channel="import")


def _post_each(columns: ResponseColumns, wave: m.Wave) -> None:
    """The same responses through the form path's service, one at a time (answers by item key, "na" for N/A)."""
    keys = dict(m.ItemPair.objects.filter(instrument=wave.instrument).values_list("pk", "key"))
    for row in columns.to_rows():
        services.response_submit(
            wave=wave, side=row.side, language=row.language, channel=row.channel, required=False,
            answers={keys[i]: "na" if v is None else v for i, v in row.answers}, segments=row.segments,
            weight=row.weight, submitted_on=row.submitted_on,
            customer_account=m.CustomerAccount.objects.get(pk=row.customer_account_id)
            if row.customer_account_id else None)


def _stored(wave: m.Wave, *, release: bool = True) -> list[tuple]:
    """Every stored field of the wave's rows; ``release=False`` leaves the release out (a load publishes its
    own rows at once, form posts wait for a reader's ``publish_due``)."""
    rows = (
        (r.side, r.language, r.channel, json.dumps(r.segments, sort_keys=True), r.weight, r.comment, r.submitted_on,
         r.submitted_at is None, r.invitation_id, r.customer_account_id, r.served_department,
         r.release if release else "-", bytes(r.answers_packed))
        for r in m.SurveyResponse.objects.filter(wave=wave))
    return sorted(rows, key=repr)


def test_column_batches_store_what_the_form_path_stores_and_the_same_gap(twin_waves):
    by_columns, by_form = twin_waves
    batches = [_columns(by_columns, seed=s, n=n) for s, n in ((1, 70), (2, 50))]
    versions = data_version(by_columns), data_version(by_form)
    loaded: list[int] = []
    assert responses_bulk_load(iter(batches), progress=loaded.append) == 120
    assert loaded == [70, 50]  # one batch each
    for batch in batches:
        _post_each(batch, by_form)
    assert data_version(by_columns) > versions[0] and data_version(by_form) > versions[1]

    stored = _stored(by_columns, release=False)
    assert len(stored) == 120 and len({row[-1] for row in stored}) > 100  # the answers differ from row to row
    assert stored == _stored(by_form, release=False)  # every field, the packed bytes included
    # The load published its own rows (at least k per side): one release per side, already made.
    assert set(m.SurveyResponse.objects.filter(wave=by_columns).values_list("release", flat=True)) == {1}
    assert set(m.SurveyResponse.objects.filter(wave=by_form).values_list("release", flat=True)) == {None}
    # The rows kept their ids, and the days and times came through exactly.
    first = batches[0].to_rows()[1]
    got = m.SurveyResponse.objects.get(pk=first.id)
    assert (got.submitted_on, got.submitted_at) == (first.submitted_on, first.submitted_at)
    assert got.submitted_at == datetime(2026, 5, 1, 9, 1, tzinfo=UTC)

    for wave in twin_waves:
        releases.publish_due(wave)
    assert _stored(by_columns) == _stored(by_form)  # the same releases
    gap_columns, gap_form = gap_of(by_columns), gap_of(by_form)
    diffs = differences(gap_columns, gap_form)
    assert all(d.startswith((".wave.", ".release.customer.published_at", ".release.staff.published_at"))
               for d in diffs), diffs
    assert gap_columns["items"] and len(json.dumps(gap_columns)) > 5000


@pytest.mark.parametrize("spoil, message", [
    (lambda c: setattr(c, "segment_codes", c.segment_codes + 3), "segment_codes"),
    (lambda c: setattr(c, "weight", c.weight[:-1]), "weight"),
    (lambda c: c.items.__setitem__((4, 0), c.items[4, 1] or 1) or c.items.__setitem__((4, 1), c.items[4, 0]),
     "item id"),
])
def test_bad_columns_are_refused_by_name_and_nothing_is_kept(twin_waves, spoil, message):
    wave = twin_waves[0]
    good, bad = _columns(wave, seed=3, n=30), _columns(wave, seed=4, n=30)
    spoil(bad)
    version = data_version(wave)
    with pytest.raises(ValueError, match=message):
        responses_bulk_load([good, bad])
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 0 and data_version(wave) == version


def test_a_column_batch_larger_than_the_batch_size_is_stored_in_pieces_the_same(twin_waves):
    by_pieces, by_rows = twin_waves
    columns = _columns(by_pieces, seed=7, n=70)
    loaded: list[int] = []
    assert responses_bulk_load([columns], batch_size=25, progress=loaded.append) == 70
    assert loaded == [25, 25, 20]  # one COPY (or bulk_create) per piece
    rows = columns.to_rows()
    for row in rows:
        row.id, row.wave_id = uuid.uuid4(), by_rows.pk
    responses_bulk_load(rows)
    assert _stored(by_pieces) == _stored(by_rows)
    assert set(m.SurveyResponse.objects.filter(wave=by_pieces).values_list("pk", flat=True)) == {
        uuid.UUID(bytes=bytes(i)) for i in columns.ids}
