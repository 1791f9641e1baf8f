"""The built-in instrument kagami-core v2: v1 plus touchpoints and six journey pairs; v1 itself unchanged."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

from django.apps import apps as global_apps
from django.db import connection

from surveys import models as m
from surveys.instruments import builtin, journey
from surveys.instruments.loader import builtin_instrument

migration = importlib.import_module("surveys.migrations.0014_builtin_instrument_v2")


def test_v1_is_left_exactly_as_it_was(db):
    v1 = builtin_instrument()
    assert v1.version == 1 and v1.items.count() == 26
    assert not v1.items.exclude(touchpoint="").exists()


def test_v2_is_v1_with_touchpoints_and_six_journey_pairs_outside_the_dimensions(db):
    v1, v2 = builtin_instrument(), builtin_instrument(2)
    assert (v2.key, v2.version, v2.is_builtin, v2.organization_id) == ("kagami-core", 2, True, None)
    v1_items = {i.key: i for i in v1.items.select_related("dimension")}
    v2_items = {i.key: i for i in v2.items.select_related("dimension")}
    assert set(v1_items) <= set(v2_items) and len(v2_items) == len(v1_items) + 6
    for key, item in v1_items.items():
        other = v2_items[key]
        assert (other.staff_text_en, other.customer_text_ja, other.reverse_keyed) == (
            item.staff_text_en, item.customer_text_ja, item.reverse_keyed)
        assert (other.dimension.key if other.dimension else None) == (item.dimension.key if item.dimension else None)
        assert other.touchpoint == journey.V1_TOUCHPOINTS.get(key, "")
    journey_items = [v2_items[i["key"]] for i in journey.JOURNEY_ITEMS]
    assert all(i.dimension_id is None and i.kind == "likert" and not i.reverse_keyed for i in journey_items)
    assert {i.touchpoint for i in journey_items} == {"first_contact", "purchase", "onboarding", "support", "billing",
                                                     "renewal"}
    keys = set(journey.default_touchpoint_keys())
    assert {i.touchpoint for i in v2_items.values() if i.touchpoint} <= keys
    ordered = list(v2.items.order_by("order").values_list("key", flat=True))
    headline = ordered.index("headline_superior_experience")
    assert all(ordered.index(i["key"]) < headline for i in journey.JOURNEY_ITEMS)
    assert not v2.items.filter(is_headline=True).exclude(touchpoint="").exists()


def test_the_journey_wordings_speak_from_each_side_in_both_languages(db):
    for item in journey.JOURNEY_ITEMS:
        assert "{company}" in item["customer_text_en"] and "{company}" in item["customer_text_ja"]
        assert "{company}" not in item["staff_text_en"] + item["staff_text_ja"]
        assert "当社" in item["staff_text_ja"] or "顧客" in item["staff_text_ja"]
        assert not re.search(r"(ます|です)。$", item["staff_text_ja"])
        assert re.search(r"(ます|です|ました|ません)。$", item["customer_text_ja"])
    names = [t["name_ja"] for t in journey.DEFAULT_TOUCHPOINTS]
    assert len(set(names)) == len(names) == 9


def test_the_migration_installs_v2_once_and_leaves_v1(db):
    builtin_instrument(1)  # a flush by a transactional test may have removed either version
    builtin_instrument(2)
    before = m.Instrument.objects.filter(organization__isnull=True).count()
    migration.forward(global_apps, SimpleNamespace(connection=connection))
    assert m.Instrument.objects.filter(organization__isnull=True).count() == before
    assert m.Instrument.objects.filter(organization__isnull=True, key=builtin.BUILTIN_KEY).count() == 2
