"""Instruments through the API: nested creation and its rules, freezing, versions, clones."""

from __future__ import annotations

import copy

import pytest

from surveys import models as m
from tests.surveys.api.conftest import instrument_payload


def test_it_creates_a_custom_instrument_with_dimensions_and_items(world, owner_client):
    response = owner_client.post("/api/v1/instruments/", instrument_payload(world.org.pk), format="json")
    assert response.status_code == 201, response.data
    body = response.data
    assert (body["key"], body["version"], body["is_frozen"], body["organization"]) == ("custom", 1, False, world.org.pk)
    assert body["dimensions"][0]["key"] == "culture"
    shared, nps = body["items"]
    assert (shared["dimension"], shared["scale_points"], shared["scale_min"], shared["scale_max"],
            shared["topbox_levels"]) == ("culture", 7, 1, 7, [6, 7])
    assert shared["customer_text_ja"] == "{company}の誰もが気にかけてくれる。"
    assert (nps["kind"], nps["dimension"], nps["scale_min"], nps["scale_max"], nps["topbox_levels"],
            nps["staff_text_en"]) == ("nps", None, 0, 10, [9, 10], "")


def _with_item(world, **changes):
    payload = instrument_payload(world.org.pk)
    payload["items"][changes.pop("index", 0)].update(changes)
    return payload


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scale_points": 6}, "scale_points"),
        ({"topbox_levels": [7, 8]}, "topbox_levels"),
        ({"topbox_levels": [6, 6]}, "topbox_levels"),
        ({"staff_text_en": ""}, "staff_text_en"),
        ({"index": 1, "staff_text_en": "We would recommend us."}, "staff_text_en"),
        ({"index": 1, "dimension": "culture"}, "dimension"),
        ({"index": 1, "topbox_levels": [11]}, "topbox_levels"),
        ({"dimension": "nowhere"}, "dimension"),
        ({"index": 1, "key": "shared"}, "key"),
        ({"kind": "stars"}, "kind"),
    ],
)
def test_bad_items_are_a_400_naming_the_item_and_field(world, owner_client, changes, field):
    index = changes.get("index", 0)
    response = owner_client.post("/api/v1/instruments/", _with_item(world, **changes), format="json")
    assert response.status_code == 400, response.data
    assert field in response.data["items"][index]
    assert not m.Instrument.objects.filter(key="custom").exists()


def test_duplicate_dimension_keys_and_instrument_keys_are_refused(world, owner_client):
    payload = instrument_payload(world.org.pk)
    payload["dimensions"].append(copy.deepcopy(payload["dimensions"][0]))
    response = owner_client.post("/api/v1/instruments/", payload, format="json")
    assert response.status_code == 400 and response.data["dimensions"][1]["key"] == ["Duplicate dimension key."]
    taken = owner_client.post("/api/v1/instruments/", instrument_payload(world.org.pk, key="mirror"), format="json")
    assert taken.status_code == 400 and "key" in taken.data


def test_editing_a_version_used_by_a_wave_is_a_409_and_a_new_version_is_editable(world, owner_client):
    frozen = f"/api/v1/instruments/{world.instrument.pk}/"
    refused = owner_client.patch(frozen, {"name_en": "Changed"}, format="json")
    assert (refused.status_code, refused.data["code"]) == (409, "instrument_frozen")
    assert owner_client.put(frozen, {}, format="json").status_code == 409
    world.instrument.refresh_from_db()
    assert world.instrument.name_en == "Customer focus check"

    created = owner_client.post(f"{frozen}versions/")
    assert created.status_code == 201
    assert (created.data["key"], created.data["version"], created.data["is_frozen"]) == ("mirror", 2, False)
    assert [i["key"] for i in created.data["items"]] == [i["key"] for i in owner_client.get(frozen).data["items"]]
    new = f"/api/v1/instruments/{created.data['id']}/"
    changed = owner_client.patch(new, {"name_en": "Mirror v2"}, format="json")
    assert (changed.status_code, changed.data["name_en"]) == (200, "Mirror v2")


def test_put_replaces_an_editable_versions_dimensions_and_items(world, owner_client):
    payload = {k: v for k, v in instrument_payload(world.org.pk).items() if k not in ("organization", "key")}
    response = owner_client.put(f"/api/v1/instruments/{world.editable.pk}/", {**payload, "replace_items": True},
                                format="json")
    assert response.status_code == 200, response.data
    assert [i["key"] for i in response.data["items"]] == ["shared", "nps"]
    assert list(world.editable.dimensions.values_list("key", flat=True)) == ["culture"]
    half = owner_client.patch(f"/api/v1/instruments/{world.editable.pk}/", {"items": payload["items"]}, format="json")
    assert half.status_code == 400 and "items" in half.data  # a PATCH never replaces items


def test_the_builtin_instrument_is_cloned_not_edited(world, owner_client):
    builtin = f"/api/v1/instruments/{world.builtin.pk}/"
    refused = owner_client.patch(builtin, {"name_en": "Mine"}, format="json")
    assert (refused.status_code, refused.data["code"]) == (409, "instrument_frozen")
    cloned = owner_client.post(f"{builtin}clone/", {"organization": world.org.pk, "key": "ours"}, format="json")
    assert cloned.status_code == 201
    assert (cloned.data["organization"], cloned.data["key"], cloned.data["based_on"]) == (
        world.org.pk, "ours", world.builtin.pk)
    again = owner_client.post(f"{builtin}clone/", {"organization": world.org.pk, "key": "ours"}, format="json")
    assert again.status_code == 400 and "key" in again.data


def test_retrieve_shows_every_wording_and_scale_fact(world, executive_client):
    body = executive_client.get(f"/api/v1/instruments/{world.instrument.pk}/").data
    fast = next(i for i in body["items"] if i["key"] == "fast")
    assert set(fast) >= {"staff_text_ja", "staff_text_en", "customer_text_ja", "customer_text_en", "scale_points",
                         "allow_na", "reverse_keyed", "topbox_levels", "kind", "is_headline"}
    assert fast["customer_text_en"] == "{company} answers me quickly."
    assert body["is_frozen"] is True
