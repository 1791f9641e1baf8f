"""The one-pass reader gives exactly the tables of the per-table queries (over the answer view).

PostgreSQL only: elsewhere the GROUP BY reader is the reader (reports.counts).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection

from reports import selectors
from reports.counts import groupby, onepass, pgcopy, tables
from surveys import models as m
from tests import factories as f

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                reason="the one-pass reader reads PostgreSQL's binary COPY")


def _canon(frame: pd.DataFrame) -> list[tuple]:
    """Rows as sorted tuples, None for missing, floats rounded (PostgreSQL's AVG of REAL is single precision)."""
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, float):
            return round(v, 5)
        return v.item() if hasattr(v, "item") else v
    rows = [tuple(cell(v) for v in row) for row in frame.astype(object).itertuples(index=False)]
    return sorted(rows, key=repr)


def _assert_same(one: tables.WaveCounts, ref: tables.WaveCounts) -> None:
    for name in ("answers", "scores", "overall_scores", "responses", "accounts", "touchpoint_scores"):
        a, b = getattr(one, name), getattr(ref, name)
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        assert _canon(a) == _canon(b), name
    assert one.moments.keys() == ref.moments.keys()
    for key, pairs in ref.moments.items():
        assert one.moments[key] == pairs, key


def test_one_pass_equals_the_per_table_queries(gap_wave):
    wave, _ = gap_wave
    one = onepass.one_pass_counts(wave)
    assert not one.answers.empty and not one.scores.empty and any(one.moments.values())
    _assert_same(one, groupby.wave_counts_by_queries(wave))


@pytest.fixture
def demo_wave(db):
    call_command("load_demo", "--responses", "40", "--seed", "3", stdout=open("/dev/null", "w"))
    return m.Wave.objects.filter(organization__slug="demo").exclude(status="draft").order_by("-opens_on").first()


def test_one_pass_equals_the_per_table_queries_on_the_demo(demo_wave):
    """Accounts, churn statuses, weights, N/A answers, outcome items and several segment fields."""
    one = onepass.one_pass_counts(demo_wave)
    assert not one.accounts.empty and one.answers.w.sum() != one.answers.n.sum()
    _assert_same(one, groupby.wave_counts_by_queries(demo_wave))


@pytest.fixture
def journey_wave(org):
    """Built-in v2 (touchpoints on dimension items and on items outside every dimension) with the experience
    modules (dimensions outside the overall score), answered by staff and customers."""
    from surveys import releases, services
    from surveys.instruments.loader import builtin_instrument
    from tests.gap.test_experience_modules_gap import answer_wave

    wave = services.wave_create(organization=org, instrument=builtin_instrument(2), name="Journey", slug="jrny",
                                modules=["experience_modules"])
    services.wave_open(wave=wave)
    answer_wave(wave, n=9, seed=11)
    releases.publish_due(wave)  # the readers read published responses only
    return wave


def test_one_pass_equals_the_per_table_queries_with_touchpoints_and_modules(journey_wave):
    one = onepass.one_pass_counts(journey_wave)
    assert set(one.touchpoint_scores.touchpoint) == {"first_contact", "purchase", "delivery", "onboarding",
                                                    "first_value", "everyday_use", "support", "billing", "renewal"}
    _assert_same(one, groupby.wave_counts_by_queries(journey_wave))
    monkeypatch_chunk = pgcopy.CHUNK
    try:
        pgcopy.CHUNK = 4
        _assert_same(onepass.one_pass_counts(journey_wave), one)
    finally:
        pgcopy.CHUNK = monkeypatch_chunk


def test_one_pass_reads_in_chunks(gap_wave, monkeypatch):
    wave, _ = gap_wave
    whole = onepass.one_pass_counts(wave)
    monkeypatch.setattr(pgcopy, "CHUNK", 7)
    _assert_same(onepass.one_pass_counts(wave), whole)


def test_the_read_sees_each_response_answers_as_stored_and_changed(gap_wave):
    """The packed column is the answers: a changed, an N/A and a dropped answer reach the one-pass read at once."""
    wave, _ = gap_wave
    response = m.SurveyResponse.objects.filter(wave=wave).first()
    first = m.Answer.objects.filter(response=response).order_by("item_id").first()
    f.set_answers(response, {first.item_id: None})
    f.drop_answer(response, m.Answer.objects.filter(response=response).order_by("-item_id").first().item_id)
    _assert_same(onepass.one_pass_counts(wave), groupby.wave_counts_by_queries(wave))


@pytest.fixture
def odd_wave(gap_wave):
    """The gap wave with the awkward data a real wave collects: every case the binary read has a branch for."""
    wave, _ = gap_wave
    keys = tables.table_segment_keys(wave)
    assert {"department", "tier"} <= set(keys)
    responses = list(m.SurveyResponse.objects.filter(wave=wave).order_by("submitted_at", "id"))
    odd_values = [7, 2.50, True, None, {"nested": ["a", 1]}, ["x"], "", "営業 \"本部\"", "a\\b", "\u00e9"]
    for i, (response, value) in enumerate(zip(responses, odd_values * 3, strict=False)):
        key = "department" if response.side == m.Side.STAFF else "tier"
        # Extra keys that are no segment field: the same cell, but a different JSON text.
        m.SurveyResponse.objects.filter(pk=response.pk).update(segments={key: value, "extra": i % 3})
    customers = [r for r in responses if r.side == m.Side.CUSTOMER]
    m.SurveyResponse.objects.filter(pk=customers[0].pk).update(weight=None)
    linked = next(r.customer_account_id for r in customers if r.customer_account_id)
    m.CustomerAccount.objects.filter(pk=linked).update(status="paused")  # not one of the choices
    f.set_answers(customers[1], {}, replace=True)  # a response without answers
    return wave


def test_one_pass_equals_the_per_table_queries_on_awkward_data(odd_wave, monkeypatch):
    """Odd JSON segment values, extra segment keys, a status outside the choices, a response without answers."""
    ref = groupby.wave_counts_by_queries(odd_wave)
    one = onepass.one_pass_counts(odd_wave)
    _assert_same(one, ref)
    assert "paused" in set(one.accounts.status)
    monkeypatch.setattr(pgcopy, "CHUNK", 4)
    _assert_same(onepass.one_pass_counts(odd_wave), ref)
    monkeypatch.setattr(onepass, "_ITEM_TABLE_LIMIT", 0)  # item ids found by binary search instead of a table
    _assert_same(onepass.one_pass_counts(odd_wave), ref)


def test_answers_to_items_of_another_instrument_are_left_out(gap_wave):
    """The engine looks items up in the wave's instrument only; a stray answer changes no table."""
    wave, _ = gap_wave
    before = onepass.one_pass_counts(wave)
    stray = f.ItemPairFactory(instrument=f.InstrumentFactory(organization=wave.organization, key="other"), key="z")
    f.set_answers(m.SurveyResponse.objects.filter(wave=wave).first(), {stray.pk: 3})
    _assert_same(onepass.one_pass_counts(wave), before)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the binary COPY read is PostgreSQL's")
def test_segment_texts_are_told_apart_byte_for_byte(odd_wave, monkeypatch):
    """Should two texts share a hash, or a text be too long to hash, each row's text is named one by one."""
    ref = groupby.wave_counts_by_queries(odd_wave)
    monkeypatch.setattr(pgcopy, "_HASH", pgcopy._HASH * 0)  # every text hashes to 0: all collide
    _assert_same(onepass.one_pass_counts(odd_wave), ref)
    monkeypatch.undo()
    monkeypatch.setattr(pgcopy, "_HASHED_WIDTH", 8)  # every text is "long"
    _assert_same(onepass.one_pass_counts(odd_wave), ref)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the binary COPY read is PostgreSQL's")
def test_a_read_that_fails_halfway_cancels_the_copy_and_frees_the_connection(gap_wave, monkeypatch):
    wave, _ = gap_wave
    monkeypatch.setattr(pgcopy, "CHUNK", 5)
    parse = pgcopy.CopyReader._parse
    calls = []

    def failing(self, batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise ZeroDivisionError("boom")
        return parse(self, batch)

    monkeypatch.setattr(pgcopy.CopyReader, "_parse", failing)
    with pytest.raises(ZeroDivisionError):
        onepass.one_pass_counts(wave)
    assert len(calls) == 3
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 150  # the connection answers again
    monkeypatch.undo()
    assert onepass.one_pass_counts(wave).responses.n.sum() == 150


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the binary COPY read is PostgreSQL's")
def test_a_database_error_during_the_read_reaches_the_caller(gap_wave, monkeypatch):
    """A COPY stopped by the server (here a statement timeout) raises a database error: no hang, no wrong table.

    Every row waits 20 ms on the server and the timeout is 100 ms, so the timeout fires mid-read on
    any machine (a bare 1 ms timeout was a race the read could win on a fast one).
    """
    from django.db import DatabaseError, transaction

    wave, _ = gap_wave
    original = pgcopy.packed_sql

    def slow_rows(w, span=None):
        sql, params = original(w, span)
        slow = "CASE WHEN pg_sleep(0.02)::text IS NOT NULL THEN r.answers_packed ELSE r.answers_packed END"
        assert "r.answers_packed FROM" in sql
        return sql.replace("r.answers_packed FROM", f"{slow} FROM"), params

    monkeypatch.setattr(pgcopy, "packed_sql", slow_rows)
    with pytest.raises(DatabaseError, match="statement timeout"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '100ms'")
        onepass.one_pass_counts(wave)
    monkeypatch.undo()
    assert onepass.one_pass_counts(wave).responses.n.sum() == 150  # the connection is usable again


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the binary COPY read is PostgreSQL's")
def test_an_error_of_the_server_after_rows_were_sent_reaches_the_caller(gap_wave, monkeypatch):
    """The 120th row fails (division by zero) after 119 were sent: the server's own error is raised."""
    from django.db import DatabaseError, transaction

    wave, _ = gap_wave
    original = pgcopy.packed_sql

    def failing_at_row_120(w, span=None):
        sql, params = original(w, span)
        failing = "CASE WHEN 1 / (120 - nextval('pg_temp.kagami_rows'))::int IS NOT NULL THEN r.answers_packed END"
        assert "r.answers_packed FROM" in sql
        return sql.replace("r.answers_packed FROM", f"{failing} FROM"), params

    monkeypatch.setattr(pgcopy, "packed_sql", failing_at_row_120)
    with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP SEQUENCE kagami_rows")
        onepass.one_pass_counts(wave)
    monkeypatch.undo()
    assert onepass.one_pass_counts(wave).responses.n.sum() == 150  # the connection is usable again


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the binary COPY read is PostgreSQL's")
def test_a_wave_without_responses_reads_empty_tables(gap_wave):
    wave, _ = gap_wave
    empty = m.Wave.objects.create(organization=wave.organization, instrument=wave.instrument, name="Empty",
                                  slug="gap-empty")
    counts = onepass.one_pass_counts(empty)
    assert counts.answers.empty and counts.scores.empty and counts.accounts.empty and not any(counts.moments.values())


def test_response_rates_from_the_count_table_equal_the_database_count(gap_wave):
    wave, _ = gap_wave
    rates = selectors.response_rates(wave, responses=onepass.one_pass_counts(wave).responses)
    assert rates == selectors.response_rates(wave)
    assert rates["staff"]["responses"] == 60 and rates["customer"]["responses"] == 90
