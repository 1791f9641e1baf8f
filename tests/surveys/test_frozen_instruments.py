"""What a form post derives from a frozen instrument is read once per process, and never served stale."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import models as m
from surveys import selectors, services
from surveys.public.forms import SurveyForm
from tests import factories as f
from tests.surveys.test_public_support import build_instrument, open_wave


@pytest.fixture(autouse=True)
def _nothing_kept():
    selectors.frozen_instruments_forget()
    yield
    selectors.frozen_instruments_forget()


def _keys(wave: m.Wave, side: str = "customer") -> list[str]:
    return [item.key for item in services.survey_items(wave=wave, side=side)]


def test_a_frozen_instruments_items_are_read_once_per_process(org):
    wave = open_wave(org)
    assert wave.instrument.is_frozen
    first = _keys(wave)
    with CaptureQueriesContext(connection) as ctx:
        again = _keys(wave)
        staff = _keys(wave, "staff")
    assert len(ctx.captured_queries) == 0
    assert first == again == ["superior", "everyone", "quick", "nps", "ces", "csat", "renewal"]
    assert staff == ["superior", "everyone", "quick"]


def test_outcome_items_come_last_on_every_database(org):
    inst = build_instrument(org)
    m.ItemPair.objects.filter(instrument=inst, key="nps").update(order=0)  # before every dimension item by order
    wave = services.wave_create(organization=org, instrument=inst, name="W", slug="w")
    assert _keys(wave)[:3] == ["superior", "everyone", "quick"]
    assert _keys(wave)[3] == "nps"


def test_an_editable_instruments_items_are_read_every_time(org):
    inst = build_instrument(org)
    wave = f.WaveFactory(organization=org, instrument=inst, status=m.WaveStatus.OPEN)
    assert not inst.is_frozen
    assert "late" not in _keys(wave)
    f.ItemPairFactory(instrument=inst, dimension=inst.dimensions.get(key="speed"), key="late", order=5)
    m.ItemPair.objects.filter(instrument=inst, key="late").update(order=6)  # no signal: nothing was kept anyway
    with CaptureQueriesContext(connection) as ctx:
        keys = _keys(wave)
    assert len(ctx.captured_queries) == 1
    assert keys[:4] == ["superior", "everyone", "quick", "late"]


def test_saving_an_item_of_a_frozen_instrument_through_the_orm_drops_what_was_kept(org):
    wave = open_wave(org)
    assert services.survey_items(wave=wave, side="customer")[0].customer_text_en.startswith("{company} delivers")
    item = m.ItemPair.objects.get(instrument=wave.instrument, key="superior")
    item.customer_text_en = "{company} is simply the best."
    item.save()
    assert services.survey_items(wave=wave, side="customer")[0].customer_text_en == "{company} is simply the best."
    form = SurveyForm(wave=wave, side="customer", language="en")
    assert form.questions["superior"].text == "Mirror Corp is simply the best."


def test_an_instrument_frozen_again_is_read_again(org):
    wave = open_wave(org)
    assert services.survey_items(wave=wave, side="customer")[0].customer_text_en.startswith("{company} delivers")
    # A queryset UPDATE sends no signal; the new freeze time alone makes the kept items unreachable.
    m.ItemPair.objects.filter(instrument=wave.instrument, key="superior").update(customer_text_en="Changed.")
    m.Instrument.objects.filter(pk=wave.instrument_id).update(
        frozen_at=wave.instrument.frozen_at + dt.timedelta(seconds=1))
    wave = m.Wave.objects.select_related("instrument", "organization").get(pk=wave.pk)
    assert services.survey_items(wave=wave, side="customer")[0].customer_text_en == "Changed."


def test_form_questions_are_built_once_per_side_and_language_with_the_current_company_name(org):
    wave = open_wave(org)
    SurveyForm(wave=wave, side="customer", language="en")
    with CaptureQueriesContext(connection) as ctx:
        english = SurveyForm(wave=wave, side="customer", language="en", data={"a_quick": "3"})
    assert len(ctx.captured_queries) == 0
    japanese = SurveyForm(wave=wave, side="customer", language="ja")
    assert english.questions["quick"].value == "3" and japanese.questions["quick"].value == ""
    assert [c.label for c in english.questions["superior"].choices][0] == "Strongly disagree"
    assert [c.label for c in japanese.questions["superior"].choices][0] == "全くそう思わない"
    assert [s.title for s in japanese.sections] == ["顧客中心の文化", "スピード", "全体的な評価"]
    # The organization's name is not part of what is kept.
    org.display_name_en = "Mirror Holdings"
    org.save()
    wave.organization.refresh_from_db()
    renamed = SurveyForm(wave=wave, side="customer", language="en")
    assert renamed.questions["nps"].text == "How likely are you to recommend Mirror Holdings to a colleague?"


def test_one_requests_answers_and_errors_never_reach_the_next_form(org):
    wave = open_wave(org)
    first = SurveyForm(wave=wave, side="customer", language="en", data={"a_superior": "9"})
    first.apply_errors({"answers.superior": ["Must be between 1 and 5."]})
    second = SurveyForm(wave=wave, side="customer", language="en")
    assert first.questions["superior"].errors and not second.questions["superior"].errors
    assert second.questions["superior"].value == ""


def test_only_so_many_frozen_instruments_are_kept(org, monkeypatch):
    monkeypatch.setattr(selectors, "FROZEN_INSTRUMENTS_KEPT", 2)
    waves = [open_wave(org, slug=f"w{n}") for n in range(3)]
    for wave in waves:
        _keys(wave)
    assert len(selectors._frozen) == 2
    with CaptureQueriesContext(connection) as ctx:
        _keys(waves[0])  # the least recently used one was let go
    assert len(ctx.captured_queries) == 1
