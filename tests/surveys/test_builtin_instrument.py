"""The built-in instrument kagami-core v1: complete, bilingual, valid scales, installed exactly once."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from surveys import models as m
from surveys import services
from surveys.instruments import builtin
from surveys.instruments.loader import builtin_install, builtin_instrument

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # hiragana, katakana, CJK ideographs
HIRAGANA = re.compile(r"[\u3040-\u309f]")
LIKERT_PAIRS = sum(len(d["items"]) for d in builtin.INSTRUMENT["dimensions"]) + 1  # + headline
OUTCOMES = len(builtin.INSTRUMENT["outcomes"])

migration = importlib.import_module("surveys.migrations.0002_builtin_instrument")


@pytest.fixture
def core(db) -> m.Instrument:
    # A transactional test elsewhere may have flushed the migration's rows; the loader heals that.
    return builtin_instrument()


def _editor() -> SimpleNamespace:
    # RunPython only reads ``schema_editor.connection``; a real editor cannot open inside a test transaction on SQLite.
    return SimpleNamespace(connection=connection)


def _builtin_qs():
    return m.Instrument.objects.filter(organization__isnull=True, key="kagami-core", version=1)


def test_the_data_has_the_dimensions_the_product_names_with_three_items_each():
    keys = [d["key"] for d in builtin.INSTRUMENT["dimensions"]]
    assert keys == ["culture", "speed", "ease", "personalization", "proactive", "onboarding", "experience"]
    assert [len(d["items"]) for d in builtin.INSTRUMENT["dimensions"]] == [3] * 7
    assert LIKERT_PAIRS == 22 and OUTCOMES == 4


def test_item_keys_are_unique_and_orders_increase():
    rows = builtin.item_rows()
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == 26
    orders = [r["order"] for r in rows]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_the_migration_installed_it_with_as_many_dimensions_and_items_as_the_data(core):
    assert _builtin_qs().count() == 1
    assert (core.is_builtin, core.organization_id, core.frozen_at) == (True, None, None)
    assert core.dimensions.count() == len(builtin.INSTRUMENT["dimensions"])
    assert core.items.count() == LIKERT_PAIRS + OUTCOMES
    assert core.items.filter(kind=m.ItemKind.LIKERT).count() == LIKERT_PAIRS
    for dim in builtin.INSTRUMENT["dimensions"]:
        stored = core.dimensions.get(key=dim["key"])
        assert list(stored.items.order_by("order").values_list("key", flat=True)) == [i["key"] for i in dim["items"]]


def test_the_migration_is_in_the_graph_after_the_initial_one():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    node = graph.nodes[("surveys", "0002_builtin_instrument")]
    assert ("surveys", "0001_initial") in node.dependencies


def test_running_the_migration_again_installs_nothing_more(core):
    before = (m.Instrument.objects.count(), m.Dimension.objects.count(), m.ItemPair.objects.count())
    migration.forward(global_apps, _editor())
    instrument, created = builtin_install()
    assert created is False and instrument.pk == core.pk
    assert (m.Instrument.objects.count(), m.Dimension.objects.count(), m.ItemPair.objects.count()) == before


def test_the_migration_installs_it_from_scratch_exactly_once(core):
    _builtin_qs().delete()
    assert not _builtin_qs().exists()
    migration.forward(global_apps, _editor())
    migration.forward(global_apps, _editor())
    assert _builtin_qs().count() == 1
    assert _builtin_qs().get().items.count() == LIKERT_PAIRS + OUTCOMES


def test_every_likert_pair_has_all_four_wordings_and_a_construct(core):
    for item in core.items.filter(kind=m.ItemKind.LIKERT):
        texts = [item.staff_text_en, item.staff_text_ja, item.customer_text_en, item.customer_text_ja]
        assert all(t.strip() for t in texts), item.key
        assert item.construct.strip(), item.key


def test_outcome_items_are_customer_only_with_no_dimension(core):
    outcomes = core.items.exclude(kind=m.ItemKind.LIKERT)
    assert sorted(outcomes.values_list("kind", flat=True)) == ["ces", "csat", "nps", "renewal"]
    for item in outcomes:
        assert (item.staff_text_en, item.staff_text_ja, item.dimension_id) == ("", "", None)
        assert item.customer_text_en and item.customer_text_ja and item.construct
        assert item.asked_of(m.Side.CUSTOMER) and not item.asked_of(m.Side.STAFF)


def test_the_staff_and_customer_wordings_speak_from_each_side(core):
    for item in core.items.filter(kind=m.ItemKind.LIKERT):
        # Staff speak as "we" / 当社 (or about customers); customers about {company} or themselves.
        assert "{company}" not in item.staff_text_en + item.staff_text_ja, item.key
        assert re.search(r"\b(we|our|us|here|customers?)\b", item.staff_text_en, re.I), item.key
        assert "当社" in item.staff_text_ja or "顧客" in item.staff_text_ja, item.key
        assert "{company}" in item.customer_text_en and "{company}" in item.customer_text_ja, item.key
        assert "当社" not in item.customer_text_ja, item.key


def test_japanese_wordings_really_are_japanese_and_polite_for_customers(core):
    for item in core.items.all():
        assert HIRAGANA.search(item.customer_text_ja), item.key
        # 敬体 for customers: polite endings, not the plain form staff use.
        assert re.search(r"(ます|です|ました|ません|ください|か)。$", item.customer_text_ja), item.key
        if item.kind == m.ItemKind.LIKERT:
            assert HIRAGANA.search(item.staff_text_ja), item.key
            assert not re.search(r"(ます|です)。$", item.staff_text_ja), item.key  # plain style, consistently
        for text in (item.staff_text_en, item.customer_text_en):
            assert not JAPANESE.search(text), item.key
    for dim in core.dimensions.all():
        assert JAPANESE.search(dim.name_ja) and not JAPANESE.search(dim.name_en)


def test_scales_and_top_boxes_are_valid(core):
    for item in core.items.all():
        assert item.topbox_levels, item.key
        assert set(item.topbox_levels) <= set(item.levels), item.key
        assert item.topbox_levels == sorted(item.topbox_levels)
        assert max(item.topbox_levels) == item.scale_max, item.key  # top box is the top of the scale
    likert = core.items.filter(kind=m.ItemKind.LIKERT)
    assert set(likert.values_list("scale_points", flat=True)) == {5}
    assert all(i.allow_na and i.topbox_levels == [4, 5] for i in likert)
    by_kind = {i.kind: i for i in core.items.exclude(kind=m.ItemKind.LIKERT)}
    assert (by_kind["nps"].levels, by_kind["nps"].topbox_levels) == (list(range(0, 11)), [9, 10])
    assert (by_kind["ces"].scale_min, by_kind["ces"].scale_max) == (1, 7)
    assert (by_kind["csat"].scale_min, by_kind["csat"].scale_max) == (1, 5)
    assert (by_kind["renewal"].scale_min, by_kind["renewal"].scale_max) == (1, 5)


def test_there_is_one_headline_outside_the_dimensions_and_one_reverse_keyed_effort_item(core):
    headline = core.items.get(is_headline=True)
    assert headline.dimension_id is None and headline.kind == m.ItemKind.LIKERT
    assert headline.staff_text_en == "We deliver a superior experience to our customers."
    assert headline.customer_text_en == "{company} delivers a superior experience to me."
    reversed_items = list(core.items.filter(reverse_keyed=True))
    assert [(i.key, i.dimension.key) for i in reversed_items] == [("ease_effort_excess", "ease")]


def test_customer_wordings_name_the_organization_when_shown(core, org):
    headline = core.items.get(is_headline=True)
    text_ja = headline.text(m.Side.CUSTOMER, "ja").format(company=org.company_name("ja"))
    assert text_ja == "ミラー株式会社は、他社よりも優れた体験を私に提供してくれています。"
    text_en = headline.text(m.Side.CUSTOMER, "en").format(company=org.company_name("en"))
    assert text_en == "Mirror Corp delivers a superior experience to me."


def test_a_wave_on_the_builtin_runs_on_an_organization_copy_with_every_item(core, org):
    wave = services.wave_create(organization=org, instrument=core, name="W", slug="w-builtin")
    assert wave.instrument.organization_id == org.pk and wave.instrument.based_on_id == core.pk
    assert len(services.survey_items(wave=wave, side=m.Side.STAFF)) == LIKERT_PAIRS
    assert len(services.survey_items(wave=wave, side=m.Side.CUSTOMER)) == LIKERT_PAIRS + OUTCOMES
    core.refresh_from_db()
    assert core.frozen_at is None  # the built-in itself stays untouched
