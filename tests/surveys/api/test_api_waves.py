"""Waves through the API: validation naming the field, the state machine, links, counts and rates."""

from __future__ import annotations

import pytest

from surveys import models as m


def _create(client, world, **overrides):
    body = {"organization": world.org.pk, "instrument": world.instrument.pk, "name": "Winter", "slug": "winter"}
    body.update(overrides)
    return client.post("/api/v1/waves/", body, format="json")


def test_it_creates_a_draft_wave_with_both_anonymous_links(world, owner_client, settings):
    settings.KAGAMI_PUBLIC_URL = "https://kagami.example"
    response = _create(owner_client, world, languages=["en"], anonymity_threshold=7)
    assert response.status_code == 201, response.data
    body = response.data
    assert (body["status"], body["languages"], body["default_language"], body["anonymity_threshold"]) == (
        "draft", ["en"], "en", 7)
    assert body["anonymous_links"] == {"staff": "https://kagami.example/s/winter/staff/",
                                       "customer": "https://kagami.example/s/winter/customer/"}
    assert m.Wave.objects.get(slug="winter").anonymous_links.count() == 2


def test_a_wave_on_the_builtin_instrument_runs_on_the_organizations_frozen_copy(world, owner_client):
    response = _create(owner_client, world, instrument=world.builtin.pk)
    assert response.status_code == 201, response.data
    copy = m.Instrument.objects.get(pk=response.data["instrument"])
    assert (copy.organization_id, copy.based_on_id, copy.is_frozen) == (world.org.pk, world.builtin.pk, True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"anonymity_threshold": 2}, "anonymity_threshold"),
        ({"anonymity_threshold": "many"}, "anonymity_threshold"),
        ({"languages": ["ja", "fr"]}, "languages"),
        ({"languages": []}, "languages"),
        ({"languages": ["ja", "ja"]}, "languages"),
        ({"languages": ["ja"], "default_language": "en"}, "default_language"),
        ({"opens_on": "2025-05-10", "closes_on": "2025-05-01"}, "closes_on"),
        ({"opens_on": "10 May"}, "opens_on"),
        ({"slug": "spring"}, "slug"),
        ({"slug": "not a slug!"}, "slug"),
        ({"staff_segment_fields": [{"key": "dept"}]}, "staff_segment_fields"),
        ({"staff_segment_fields": "department"}, "staff_segment_fields"),
        ({"staff_segment_fields": [{"key": "x", "label_en": "X", "label_ja": "X"},
                                   {"key": "x", "label_en": "Y", "label_ja": "Y"}]}, "staff_segment_fields"),
        ({"customer_segment_fields": [{"key": "fast", "label_en": "F", "label_ja": "F"}]}, "customer_segment_fields"),
        ({"customer_segment_fields": [{"key": "weight", "label_en": "W", "label_ja": "W"}]},
         "customer_segment_fields"),
        ({"instrument": 999999}, "instrument"),
        ({"organization": "abc"}, "organization"),
        ({"organization": 10**30}, "organization"),
    ],
)
def test_bad_wave_settings_are_a_400_naming_the_field(world, owner_client, overrides, field):
    response = _create(owner_client, world, **overrides)
    assert response.status_code == 400, response.data
    assert field in response.data
    assert response.data["code"] in {"invalid", "required", "min_value", "unique", "does_not_exist", "not_a_list",
                                     "invalid_choice", "empty", "incorrect_type", "min_length", "max_value"}
    assert not m.Wave.objects.filter(name="Winter").exists()


def test_another_organizations_instrument_cannot_be_used(world, owner_client):
    theirs = world.other_wave.instrument
    response = _create(owner_client, world, instrument=theirs.pk)
    assert response.status_code == 400 and "instrument" in response.data


def test_the_state_machine_via_the_api(world, owner_client):
    url = f"/api/v1/waves/{world.draft.pk}"
    assert owner_client.post(f"{url}/close/").data["code"] == "invalid_transition"
    assert owner_client.post(f"{url}/reopen/").status_code == 409
    opened = owner_client.post(f"{url}/open/")
    assert (opened.status_code, opened.data["status"]) == (200, "open")
    assert opened.data["opened_at"] is not None
    closed = owner_client.post(f"{url}/close/")
    assert (closed.status_code, closed.data["status"]) == (200, "closed")
    again = owner_client.post(f"{url}/open/")
    assert again.status_code == 409
    assert again.data["code"] == "invalid_transition" and "reopen" in again.data["detail"]
    reopened = owner_client.post(f"{url}/reopen/")
    assert (reopened.status_code, reopened.data["status"], reopened.data["closed_at"]) == (200, "open", None)
    world.draft.refresh_from_db()
    assert world.draft.status == "open"


def test_patch_changes_settings_but_never_the_status(world, owner_client):
    url = f"/api/v1/waves/{world.draft.pk}/"
    refused = owner_client.patch(url, {"status": "open"}, format="json")
    assert refused.status_code == 400 and "status" in refused.data
    changed = owner_client.patch(url, {"name": "Spring 2025", "anonymity_threshold": 10, "closes_on": "2025-06-30"},
                                 format="json")
    assert changed.status_code == 200, changed.data
    world.draft.refresh_from_db()
    assert (world.draft.name, world.draft.anonymity_threshold, world.draft.status) == ("Spring 2025", 10, "draft")
    assert owner_client.patch(url, {"anonymity_threshold": 1}, format="json").status_code == 400
    assert owner_client.put(url, {"name": "x"}, format="json").status_code == 405


def test_retrieve_reports_responses_and_response_rates_per_side(world, owner_client):
    m.InvitationUse.objects.create(invitation=world.invitation)
    from surveys import services

    services.invitation_create(wave=world.open, side="staff", email="b@example.com")
    body = owner_client.get(f"/api/v1/waves/{world.open.pk}/").data
    # Only published responses count (one response waits for k − 1 more), and which staff invitations were
    # used is never given: the staff rate is published responses per invitation (disclosure P1, P4).
    assert body["counts"] == {
        "staff": {"responses": 0, "invitations": 2, "answered_invitations": None, "response_rate": 0.0},
        "customer": {"responses": 0, "invitations": 0, "answered_invitations": 0, "response_rate": None},
    }
    world.open.customer_threshold = 1
    world.open.save()
    body = owner_client.get(f"/api/v1/waves/{world.open.pk}/").data
    assert body["counts"]["customer"]["responses"] == 1 and body["counts"]["staff"]["responses"] == 0
    listed = owner_client.get("/api/v1/waves/?status=open").data["results"]
    assert [w["slug"] for w in listed] == ["summer"]
    assert listed[0]["counts"] is None  # lists stay cheap
