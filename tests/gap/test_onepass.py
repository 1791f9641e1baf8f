"""The one-pass reader gives exactly the tables of the per-table queries (and keeps the vectors right)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection

from reports import onepass, selectors
from reports.models import AnswerVector
from surveys import models as m


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


def _assert_same(one: selectors.WaveCounts, ref: selectors.WaveCounts) -> None:
    for name in ("answers", "scores", "overall_scores", "responses", "accounts"):
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
    _assert_same(one, selectors.wave_counts_by_queries(wave))


@pytest.fixture
def demo_wave(db):
    call_command("load_demo", "--responses", "40", "--seed", "3", stdout=open("/dev/null", "w"))
    return m.Wave.objects.filter(organization__slug="demo").exclude(status="draft").order_by("-opens_on").first()


def test_one_pass_equals_the_per_table_queries_on_the_demo(demo_wave):
    """Accounts, churn statuses, weights, N/A answers, outcome items and several segment fields."""
    one = onepass.one_pass_counts(demo_wave)
    assert not one.accounts.empty and one.answers.w.sum() != one.answers.n.sum()
    _assert_same(one, selectors.wave_counts_by_queries(demo_wave))


def test_one_pass_reads_in_chunks(gap_wave, monkeypatch):
    wave, _ = gap_wave
    whole = onepass.one_pass_counts(wave)
    monkeypatch.setattr(onepass, "CHUNK", 7)
    _assert_same(onepass.one_pass_counts(wave), whole)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the vectors are kept by PostgreSQL triggers")
def test_the_triggers_keep_each_response_vector_equal_to_its_answers(gap_wave):
    wave, _ = gap_wave
    response = m.SurveyResponse.objects.filter(wave=wave).first()

    def unpacked() -> list[tuple[int, int | None]]:
        packed = bytes(AnswerVector.objects.get(response_id=response.pk).packed)
        return [(int.from_bytes(packed[i:i + 4], "big", signed=True),
                 None if (v := int.from_bytes(packed[i + 4:i + 6], "big", signed=True)) == -1 else v)
                for i in range(0, len(packed), 6)]

    def answers() -> list[tuple[int, int | None]]:
        return list(m.Answer.objects.filter(response=response).order_by("item_id").values_list("item_id", "value"))

    assert unpacked() == answers() and answers()
    first = m.Answer.objects.filter(response=response).order_by("item_id").first()
    m.Answer.objects.filter(pk=first.pk).update(value=None)
    assert unpacked() == answers()
    m.Answer.objects.filter(pk=first.pk).delete()
    assert unpacked() == answers()
    assert AnswerVector.objects.filter(wave_id=wave.pk).count() == m.SurveyResponse.objects.filter(wave=wave).count()
    rid = response.pk
    m.Answer.objects.filter(response_id=rid).delete()
    m.SurveyResponse.objects.filter(pk=rid).delete()
    assert not AnswerVector.objects.filter(response_id=rid).exists()
    assert connection.vendor == "postgresql"
