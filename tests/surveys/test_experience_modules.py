"""The optional experience modules (issue 16, item 4): the data, the service, the API action, and waves asking them."""

from __future__ import annotations

import re

import pytest

from surveys import errors, services
from surveys import models as m
from surveys.instruments.loader import builtin_instrument
from surveys.instruments.modules import EXPERIENCE_MODULES, MODULES, module_label, module_rows
from tests.surveys.api.conftest import make_instrument

HIRAGANA = re.compile(r"[\u3040-\u309f]")
MODULE_DIMENSIONS = ["xm_sense", "xm_feel", "xm_think", "xm_act", "xm_relate"]
MODULE_ITEMS = sum(len(d["items"]) for d in MODULES[EXPERIENCE_MODULES])


# --------------------------------------------------------------------------- the data


def test_the_module_has_sense_feel_think_act_and_relate_with_paired_bilingual_items():
    dimensions, items = module_rows(EXPERIENCE_MODULES)
    assert [d["key"] for d in dimensions] == MODULE_DIMENSIONS
    assert {d["module"] for d in dimensions} == {EXPERIENCE_MODULES}
    per_dimension = {d: sum(1 for i in items if i["dimension"] == d) for d in MODULE_DIMENSIONS}
    assert all(2 <= n <= 3 for n in per_dimension.values()), per_dimension
    assert len({i["key"] for i in items}) == len(items) == MODULE_ITEMS
    for item in items:
        assert (item["kind"], item["scale_points"], item["topbox_levels"], item["reverse_keyed"]) == (
            "likert", 5, [4, 5], False), item["key"]
        assert "{company}" not in item["staff_text_en"] + item["staff_text_ja"], item["key"]
        assert re.search(r"\b(we|our|us|customers?)\b", item["staff_text_en"], re.I), item["key"]
        assert "当社" in item["staff_text_ja"] or "顧客" in item["staff_text_ja"], item["key"]
        assert not re.search(r"(ます|です)。$", item["staff_text_ja"]), item["key"]  # plain style for staff
        assert "{company}" in item["customer_text_en"] and "{company}" in item["customer_text_ja"], item["key"]
        assert re.search(r"(ます|です|ました|ません)。$", item["customer_text_ja"]), item["key"]  # polite
        assert HIRAGANA.search(item["staff_text_ja"]) and HIRAGANA.search(item["customer_text_ja"])
    assert module_label(EXPERIENCE_MODULES, "ja") == "経験価値モジュール"
    assert module_label(EXPERIENCE_MODULES, "en") == "Experience modules"


def test_no_module_key_clashes_with_the_builtin_instrument(db):
    core = builtin_instrument()
    dimensions, items = module_rows(EXPERIENCE_MODULES)
    assert not {d["key"] for d in dimensions} & set(core.dimensions.values_list("key", flat=True))
    assert not {i["key"] for i in items} & set(core.items.values_list("key", flat=True))


# --------------------------------------------------------------------------- the service


def test_the_service_adds_the_modules_dimensions_and_items_after_the_versions_own(org):
    copy = services.instrument_clone(source=builtin_instrument(), organization=org, key="with-xm")
    before_items = list(copy.items.order_by("order").values_list("key", flat=True))
    services.instrument_add_module(instrument=copy, module=EXPERIENCE_MODULES)
    dims = list(copy.dimensions.order_by("order"))
    assert [d.key for d in dims][-5:] == MODULE_DIMENSIONS
    assert [d.module for d in dims] == [""] * 7 + [EXPERIENCE_MODULES] * 5
    items = list(copy.items.order_by("order").values_list("key", flat=True))
    assert items[: len(before_items)] == before_items and len(items) == len(before_items) + MODULE_ITEMS
    assert services.instrument_modules(instrument=copy) == {EXPERIENCE_MODULES}


def test_the_service_refuses_a_module_twice_an_unknown_one_and_frozen_or_builtin_versions(org):
    copy = services.instrument_clone(source=builtin_instrument(), organization=org, key="with-xm")
    services.instrument_add_module(instrument=copy, module=EXPERIENCE_MODULES)
    count = copy.items.count()
    with pytest.raises(errors.ValidationFailed) as twice:
        services.instrument_add_module(instrument=copy, module=EXPERIENCE_MODULES)
    assert "module" in twice.value.field_errors
    with pytest.raises(errors.ValidationFailed) as unknown:
        services.instrument_add_module(instrument=copy, module="flow_modules")
    assert "module" in unknown.value.field_errors
    with pytest.raises(errors.InstrumentFrozen) as builtin:
        services.instrument_add_module(instrument=builtin_instrument(), module=EXPERIENCE_MODULES)
    assert "instrument" in builtin.value.field_errors
    frozen = make_instrument(org, "frozen-one")
    services.wave_create(organization=org, instrument=frozen, name="W", slug="w-frozen")
    with pytest.raises(errors.InstrumentFrozen):
        services.instrument_add_module(instrument=frozen, module=EXPERIENCE_MODULES)
    assert copy.items.count() == count and frozen.dimensions.count() == 1


def test_a_key_already_in_the_version_is_refused_and_nothing_is_added(org):
    inst = make_instrument(org, "clash")
    m.Dimension.objects.create(instrument=inst, key="xm_feel", name_en="Feel", name_ja="感情")
    with pytest.raises(errors.ValidationFailed) as exc:
        services.instrument_add_module(instrument=inst, module=EXPERIENCE_MODULES)
    assert "xm_feel" in exc.value.field_errors["module"][0]
    assert inst.dimensions.count() == 2 and inst.items.count() == 3


# --------------------------------------------------------------------------- waves


def test_a_wave_asking_the_modules_runs_on_a_derived_version_and_the_chosen_one_never_changes(org):
    core = builtin_instrument()
    plain = services.wave_create(organization=org, instrument=core, name="Plain", slug="plain")
    copy = plain.instrument
    n_copy = copy.items.count()
    wave = services.wave_create(organization=org, instrument=core, name="XM", slug="xm",
                                modules=[EXPERIENCE_MODULES])
    assert wave.instrument.pk != copy.pk and wave.instrument.key == copy.key
    assert wave.instrument.based_on_id == copy.pk and wave.instrument.version == copy.version + 1
    assert wave.instrument.is_frozen and copy.items.count() == n_copy
    asked = {i.key for i in services.survey_items(wave=wave, side=m.Side.STAFF)}
    assert {i["key"] for i in module_rows(EXPERIENCE_MODULES)[1]} <= asked
    # A second wave with the same modules reuses that version; one without keeps the plain copy.
    again = services.wave_create(organization=org, instrument=core, name="XM 2", slug="xm-2",
                                 modules=[EXPERIENCE_MODULES])
    assert again.instrument.pk == wave.instrument.pk
    plain_again = services.wave_create(organization=org, instrument=core, name="Plain 2", slug="plain-2")
    assert plain_again.instrument.pk == copy.pk
    # A version that already has the module is used as it is.
    direct = services.wave_create(organization=org, instrument=wave.instrument, name="XM 3", slug="xm-3",
                                  modules=[EXPERIENCE_MODULES])
    assert direct.instrument.pk == wave.instrument.pk


def test_an_editable_chosen_version_is_not_changed_either(org):
    inst = make_instrument(org, "own")
    wave = services.wave_create(organization=org, instrument=inst, name="W", slug="w-own",
                                modules=[EXPERIENCE_MODULES])
    assert wave.instrument.pk != inst.pk and not services.instrument_modules(instrument=inst)
    assert services.instrument_modules(instrument=wave.instrument) == {EXPERIENCE_MODULES}
    inst.refresh_from_db()
    assert not inst.is_frozen  # no wave uses it


# --------------------------------------------------------------------------- API


@pytest.fixture
def editable(org):
    return services.instrument_clone(source=builtin_instrument(), organization=org, key="editable-core")


def test_the_api_action_adds_the_module_and_shows_it_on_the_dimensions(org, editable, owner_client):
    response = owner_client.post(f"/api/v1/instruments/{editable.pk}/modules/", {"module": EXPERIENCE_MODULES},
                                 format="json")
    assert response.status_code == 200, response.data
    modules = {d["key"]: d["module"] for d in response.data["dimensions"]}
    assert [k for k, v in modules.items() if v == EXPERIENCE_MODULES] == MODULE_DIMENSIONS
    assert modules["culture"] == ""


@pytest.mark.parametrize("body", [{}, {"module": "flow"}, {"module": ["experience_modules"]}])
def test_a_bad_module_is_a_400_naming_the_field(editable, owner_client, body):
    response = owner_client.post(f"/api/v1/instruments/{editable.pk}/modules/", body, format="json")
    assert response.status_code == 400 and "module" in response.data, response.data


def test_a_module_already_present_is_a_400_and_a_frozen_version_a_409(org, editable, owner_client):
    url = f"/api/v1/instruments/{editable.pk}/modules/"
    assert owner_client.post(url, {"module": EXPERIENCE_MODULES}, format="json").status_code == 200
    twice = owner_client.post(url, {"module": EXPERIENCE_MODULES}, format="json")
    assert twice.status_code == 400 and "module" in twice.data
    services.wave_create(organization=org, instrument=editable, name="W", slug="w-api")
    frozen = owner_client.post(url, {"module": EXPERIENCE_MODULES}, format="json")
    assert frozen.status_code == 409 and frozen.data["code"] == "instrument_frozen" and "instrument" in frozen.data
    builtin = owner_client.post(f"/api/v1/instruments/{builtin_instrument().pk}/modules/",
                                {"module": EXPERIENCE_MODULES}, format="json")
    assert builtin.status_code == 409


def test_wave_creation_accepts_modules_and_refuses_bad_ones_naming_the_field(org, owner_client):
    core = builtin_instrument()
    body = {"organization": org.pk, "instrument": core.pk, "name": "XM", "slug": "xm-api"}
    bad = owner_client.post("/api/v1/waves/", {**body, "modules": ["flow"]}, format="json")
    assert bad.status_code == 400 and "modules" in bad.data
    not_a_list = owner_client.post("/api/v1/waves/", {**body, "modules": "experience_modules"}, format="json")
    assert not_a_list.status_code == 400 and "modules" in not_a_list.data
    clash = owner_client.post("/api/v1/waves/", {**body, "modules": [EXPERIENCE_MODULES], "staff_segment_fields": [
        {"key": "xm_feel_enjoy", "label_en": "x", "label_ja": "x"}]}, format="json")
    assert clash.status_code == 400 and "staff_segment_fields" in clash.data
    created = owner_client.post("/api/v1/waves/", {**body, "modules": [EXPERIENCE_MODULES]}, format="json")
    assert created.status_code == 201, created.data
    wave = m.Wave.objects.get(pk=created.data["id"])
    assert services.instrument_modules(instrument=wave.instrument) == {EXPERIENCE_MODULES}
    later = owner_client.patch(f"/api/v1/waves/{wave.pk}/", {"modules": []}, format="json")
    assert later.status_code == 400 and "modules" in later.data
