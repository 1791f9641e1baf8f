"""An organization's touchpoints through the staff API, and items carrying one (issue 16, item 3)."""

from __future__ import annotations

import pytest

from surveys import models as m
from surveys import services
from surveys.instruments.journey import DEFAULT_TOUCHPOINTS, default_touchpoint_keys
from surveys.instruments.loader import builtin_instrument
from tests.surveys.api.conftest import make_instrument


def url(org, key: str = "") -> str:
    return f"/api/v1/organizations/{org.pk}/touchpoints/" + (f"{key}/" if key else "")


def test_the_list_is_the_defaults_until_first_edited_and_reading_it_writes_nothing(org, executive_client):
    response = executive_client.get(url(org))
    assert response.status_code == 200
    assert [r["key"] for r in response.data] == default_touchpoint_keys()
    assert [r["order"] for r in response.data] == list(range(len(DEFAULT_TOUCHPOINTS)))
    assert response.data[0] == {"key": "first_contact", "order": 0, "name_ja": "最初の接点",
                                "name_en": "First contact", "is_default": True}
    assert not m.Touchpoint.objects.filter(organization=org).exists()


def test_an_admin_creates_renames_reorders_and_deletes(org, owner_client):
    created = owner_client.post(url(org), {"key": "pilot", "name_ja": "試用", "name_en": "Pilot",
                                           "after": "purchase"}, format="json")
    assert created.status_code == 201, created.data
    assert created.data == {"key": "pilot", "order": 2, "name_ja": "試用", "name_en": "Pilot", "is_default": False}
    keys = [r["key"] for r in owner_client.get(url(org)).data]
    assert keys[:4] == ["first_contact", "purchase", "pilot", "delivery"] and len(keys) == 10
    renamed = owner_client.patch(url(org, "support"), {"name_en": "Help desk"}, format="json")
    assert renamed.status_code == 200 and renamed.data["name_en"] == "Help desk"
    assert renamed.data["name_ja"] == "サポート"
    reordered = owner_client.post(url(org, "reorder"), {"keys": list(reversed(keys))}, format="json")
    assert reordered.status_code == 200 and [r["key"] for r in reordered.data] == list(reversed(keys))
    assert owner_client.delete(url(org, "pilot")).status_code == 204
    assert "pilot" not in [r["key"] for r in owner_client.get(url(org)).data]


@pytest.mark.parametrize("body,field", [
    ({"key": "support", "name_ja": "x", "name_en": "x"}, "key"),
    ({"key": "not a slug", "name_ja": "x", "name_en": "x"}, "key"),
    ({"key": "new", "name_ja": "x"}, "name_en"),
    ({"key": "new", "name_ja": "x", "name_en": "x", "after": "nowhere"}, "after"),
])
def test_bad_creations_are_a_400_naming_the_field(org, owner_client, body, field):
    response = owner_client.post(url(org), body, format="json")
    assert response.status_code == 400 and field in response.data, response.data


@pytest.mark.parametrize("keys", [["support"], [*default_touchpoint_keys(), "support"],
                                  [*default_touchpoint_keys()[:-1], "nowhere"]])
def test_a_reorder_must_name_every_touchpoint_once(org, owner_client, keys):
    response = owner_client.post(url(org, "reorder"), {"keys": keys}, format="json")
    assert response.status_code == 400 and "keys" in response.data


def test_the_key_never_changes_and_unknown_keys_are_404(org, owner_client):
    response = owner_client.patch(url(org, "support"), {"key": "helpdesk"}, format="json")
    assert response.status_code == 400 and "key" in response.data
    assert owner_client.patch(url(org, "nowhere"), {"name_en": "x"}, format="json").status_code == 404
    assert owner_client.delete(url(org, "nowhere")).status_code == 404


def test_delete_is_refused_while_an_editable_version_uses_it_not_a_frozen_one(org, owner_client):
    editable = make_instrument(org, "journey-draft")
    item = editable.items.get(key="fast")
    item.touchpoint = "billing"
    item.save()
    refused = owner_client.delete(url(org, "billing"))
    assert refused.status_code == 409 and refused.data["code"] == "touchpoint_in_use"
    assert "fast" in refused.data["detail"]
    services.wave_create(organization=org, instrument=editable, name="W", slug="w-tp")  # now frozen
    assert owner_client.delete(url(org, "billing")).status_code == 204


def test_the_last_touchpoint_cannot_be_deleted(org, owner_client):
    for key in default_touchpoint_keys()[1:]:
        assert owner_client.delete(url(org, key)).status_code == 204
    last = owner_client.delete(url(org, "first_contact"))
    assert last.status_code == 409 and last.data["code"] == "last_touchpoint"


def test_items_accept_a_known_touchpoint_and_refuse_an_unknown_one_naming_the_field(org, owner_client):
    editable = make_instrument(org, "journey-items")
    fast = editable.items.get(key="fast")
    base = f"/api/v1/instruments/{editable.pk}/items/"
    ok = owner_client.patch(f"{base}{fast.pk}/", {"touchpoint": "support"}, format="json")
    assert ok.status_code == 200 and ok.data["touchpoint"] == "support"
    bad = owner_client.patch(f"{base}{fast.pk}/", {"touchpoint": "teleport"}, format="json")
    assert bad.status_code == 400 and "touchpoint" in bad.data
    outcome = owner_client.patch(f"{base}{editable.items.get(key='nps').pk}/", {"touchpoint": "support"},
                                 format="json")
    assert outcome.status_code == 400 and "touchpoint" in outcome.data
    added = owner_client.post(base, {"key": "bill", "staff_text_en": "We bill clearly.", "staff_text_ja": "明瞭。",
                                     "customer_text_en": "Clear bills.", "customer_text_ja": "明瞭です。",
                                     "touchpoint": "billing"}, format="json")
    assert added.status_code == 201 and added.data["touchpoint"] == "billing"
    # A key the organization added itself is known too.
    owner_client.post(url(org), {"key": "pilot", "name_ja": "試用", "name_en": "Pilot"}, format="json")
    assert owner_client.patch(f"{base}{fast.pk}/", {"touchpoint": "pilot"}, format="json").status_code == 200


def test_creating_an_instrument_with_an_unknown_touchpoint_is_a_400_naming_the_item(org, owner_client):
    from tests.surveys.api.conftest import instrument_payload

    body = instrument_payload(org.pk)
    body["items"][0]["touchpoint"] = "teleport"
    response = owner_client.post("/api/v1/instruments/", body, format="json")
    assert response.status_code == 400 and response.data["items"][0] == {
        "touchpoint": ["No touchpoint of this organization has this key."]}
    body["items"][0]["touchpoint"] = "support"
    assert owner_client.post("/api/v1/instruments/", body, format="json").status_code == 201


def test_another_organizations_touchpoints_are_404(org, other_org, owner_client):
    assert owner_client.get(url(other_org)).status_code == 404
    assert owner_client.post(url(other_org), {"key": "x", "name_ja": "x", "name_en": "x"},
                             format="json").status_code == 404


def test_a_wave_on_builtin_v2_runs_on_a_new_version_of_the_organizations_copy(org):
    v1_wave = services.wave_create(organization=org, instrument=builtin_instrument(), name="V1", slug="v1")
    v2 = builtin_instrument(2)
    wave = services.wave_create(organization=org, instrument=v2, name="V2", slug="v2")
    assert wave.instrument.key == v1_wave.instrument.key == "kagami-core"
    assert wave.instrument.version == v1_wave.instrument.version + 1 and wave.instrument.based_on_id == v2.pk
    assert services.wave_create(organization=org, instrument=v2, name="V2b", slug="v2b").instrument == wave.instrument
    carried = dict(wave.instrument.items.exclude(touchpoint="").values_list("key", "touchpoint"))
    assert carried["speed_response"] == "support" and carried["journey_billing_clear"] == "billing"
