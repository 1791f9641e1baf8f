"""surveys.bulk writes exactly what the ORM path writes (COPY on PostgreSQL, bulk_create on SQLite)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from django.db import connection

from reports.counts.groupby import answer_count_table, dimension_score_table, response_count_table
from surveys import models as m
from surveys import packing, releases, services
from surveys.bulk import BulkResponse, responses_bulk_load
from surveys.demo import demo_load
from tests.gap.conftest import build_instrument


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    # Waves built apart have their own copies of the instrument: compare by item and dimension key.
    if "item_id" in frame:
        frame = frame.assign(item_id=frame.item_id.map(dict(m.ItemPair.objects.values_list("id", "key"))))
    if "dimension_id" in frame:
        frame = frame.assign(dimension_id=frame.dimension_id.map(dict(m.Dimension.objects.values_list("id", "key"))))
    cols = [c for c in frame.columns if c not in ("n", "w", "w2")]
    return frame.sort_values(cols, na_position="first").reset_index(drop=True)


def _rows(wave: m.Wave, seed: int, n: int) -> list[BulkResponse]:
    rng = random.Random(seed)
    items = list(wave.instrument.items.order_by("order"))
    account, _ = m.CustomerAccount.objects.get_or_create(organization=wave.organization, external_id="A-1",
                                                         defaults={"status": "churned"})
    out = []
    for i in range(n):
        side = "staff" if i % 3 == 0 else "customer"
        answers = [(it.pk, None if rng.random() < 0.1 else rng.randint(it.scale_min, it.scale_max))
                   for it in items if it.asked_of(side)]
        out.append(BulkResponse(
            wave_id=wave.pk, side=side, answers=answers, language="ja", channel="import",
            # Characters COPY's text format must escape, and Japanese.
            segments={"department": rng.choice(["営業", "Sup\tport", "back\\slash", "new\nline"])}
            if side == "staff" else {"tier": rng.choice(["Gold", "Silver"])},
            weight=None if side == "staff" else rng.choice([None, 0.5, 2.0]),
            comment="ありがとう\n\t\\" if i % 7 == 0 else "",
            submitted_on=date(2026, 5, 1 + i % 20),
            submitted_at=None if side == "staff" else datetime(2026, 5, 1, 9, i % 60, tzinfo=UTC),
            customer_account_id=account.pk if side == "customer" and i % 2 else None,
        ))
    return out


def _orm_write(rows: list[BulkResponse]) -> None:
    for r in rows:
        m.SurveyResponse.objects.create(
            id=r.id, wave_id=r.wave_id, side=r.side, language=r.language, channel=r.channel, segments=r.segments,
            weight=r.weight, comment=r.comment, submitted_on=r.submitted_on, submitted_at=r.submitted_at,
            customer_account_id=r.customer_account_id, answers_packed=packing.pack(r.answers))


@pytest.fixture
def two_waves(org) -> tuple[m.Wave, m.Wave]:
    inst = build_instrument(org)
    waves = tuple(services.wave_create(organization=org, instrument=inst, name=f"W{k}", slug=f"bulk-w{k}",
                                       staff_segment_fields=[{"key": "department", "label_en": "Dept",
                                                              "label_ja": "部署", "choices": []}],
                                       customer_segment_fields=[{"key": "tier", "label_en": "Tier",
                                                                 "label_ja": "ティア", "choices": []}])
                  for k in (1, 2))
    return waves


@pytest.mark.django_db(transaction=True)
def test_it_writes_the_same_count_tables_as_the_orm(two_waves):
    bulk_wave, orm_wave = two_waves
    bulk_rows = _rows(bulk_wave, seed=7, n=90)
    orm_rows = _rows(orm_wave, seed=7, n=90)
    orm_items = {i.key: i.pk for i in orm_wave.instrument.items.all()}
    keys = {i.pk: i.key for i in bulk_wave.instrument.items.all()}
    for b, o in zip(bulk_rows, orm_rows, strict=True):
        o.id, o.customer_account_id = uuid.uuid4(), b.customer_account_id
        o.answers = [(orm_items[keys[i]], v) for i, v in b.answers]
    seen: list[int] = []
    assert responses_bulk_load(bulk_rows, batch_size=25, progress=seen.append) == 90
    _orm_write(orm_rows)

    assert seen == [25, 25, 25, 15]
    for wave in two_waves:
        releases.publish_due(wave)  # the count tables read published responses only
    for table in (answer_count_table, response_count_table, dimension_score_table):
        got, expected = _sorted(table(bulk_wave)), _sorted(table(orm_wave))
        assert len(got) > 5
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.django_db(transaction=True)
def test_it_stores_every_field_exactly_including_escaped_text(two_waves):
    wave = two_waves[0]
    rows = _rows(wave, seed=3, n=30)
    responses_bulk_load(rows, batch_size=8)
    stored = {r.id: r for r in m.SurveyResponse.objects.filter(wave=wave)}
    assert len(stored) == 30
    for row in rows:
        got = stored[row.id]
        assert (got.side, got.segments, got.weight, got.comment, got.submitted_on, got.submitted_at,
                got.customer_account_id, got.channel) == (
            row.side, row.segments, row.weight, row.comment, row.submitted_on, row.submitted_at,
            row.customer_account_id, row.channel)
        assert sorted(got.answers.values_list("item_id", "value")) == sorted(row.answers, key=lambda a: a[0])


@pytest.mark.django_db(transaction=True)
def test_a_staff_row_with_a_time_is_refused_by_the_database_and_nothing_is_kept(two_waves):
    wave = two_waves[0]
    rows = _rows(wave, seed=5, n=6)
    rows[3].side, rows[3].submitted_at = "staff", datetime(2026, 5, 1, tzinfo=UTC)
    with pytest.raises(Exception, match="response_staff_unlinkable"):
        responses_bulk_load(rows, batch_size=2)
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 0
    assert m.Answer.objects.filter(response__wave=wave).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_index_rebuild_mode_restores_every_constraint_and_index(two_waves):
    wave = two_waves[0]
    before = _schema()
    responses_bulk_load(_rows(wave, seed=9, n=12), rebuild_indexes=True)
    assert _schema() == before
    assert m.Answer.objects.filter(response__wave=wave).count() > 50


def _schema() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint "
                           "WHERE conrelid = 'surveys_surveyresponse'::regclass UNION ALL "
                           "SELECT indexdef FROM pg_indexes WHERE tablename = 'surveys_surveyresponse'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'surveys_surveyresponse'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_demo_loads_the_same_data_through_copy_as_through_the_orm():
    demo_load(customers=40, bulk=True)
    wave = m.Wave.objects.get(slug="demo-2026-h2")
    bulk = [_sorted(t(wave)) for t in (answer_count_table, response_count_table)]
    bulk_invitations = m.Invitation.objects.filter(wave=wave).count()
    demo_load(customers=40, bulk=False, reset=True)
    wave = m.Wave.objects.get(slug="demo-2026-h2")
    orm = [_sorted(t(wave)) for t in (answer_count_table, response_count_table)]
    assert m.Invitation.objects.filter(wave=wave).count() == bulk_invitations > 40
    for got, expected in zip(bulk, orm, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
