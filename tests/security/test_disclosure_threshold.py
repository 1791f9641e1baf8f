"""The staff threshold goes below 5 only through an explicit, audited override.

One rule (services.wave_threshold_reason), reached through the API, the services and the Django admin:
a staff threshold under 5 is set only together with a non-empty ``anonymity_override_reason``, and
every change of an override (set, changed, lifted) writes a ``threshold_override`` audit event naming
who, the wave, the old and new threshold, the reason and how many staff responses exist (never which).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from surveys import errors, services
from surveys import models as m
from tests import factories as f

REASON = "Legal team of four; works council agreed on 2025-03-01."
DETAIL_KEYS = {"old_threshold", "new_threshold", "reason", "previous_reason", "staff_responses"}


def overrides(wave: m.Wave | None = None):
    events = m.AuditEvent.objects.filter(action=m.AuditEvent.Action.THRESHOLD_OVERRIDE)
    return events.filter(wave=wave) if wave is not None else events


def wave_url(wave: m.Wave) -> str:
    return f"/api/v1/waves/{wave.pk}/"


# --------------------------------------------------------------------------- API: PATCH


def test_patching_below_five_without_a_reason_is_a_400_naming_the_reason_field(home, owner_client):
    for body in ({"anonymity_threshold": 3}, {"anonymity_threshold": 4, "anonymity_override_reason": ""},
                 {"anonymity_threshold": 3, "anonymity_override_reason": "   "}):
        refused = owner_client.patch(wave_url(home.wave), body, format="json")
        assert refused.status_code == 400, (body, refused.data)
        assert "anonymity_override_reason" in refused.data, refused.data
        assert "5" in str(refused.data["anonymity_override_reason"])
    home.wave.refresh_from_db()
    assert (home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == (5, "")
    assert not overrides().exists()


def test_patching_below_five_with_a_reason_is_audited_with_who_old_new_reason_and_staff_count(home, owner,
                                                                                             owner_client):
    changed = owner_client.patch(wave_url(home.wave), {"anonymity_threshold": 3, "anonymity_override_reason": REASON},
                                 format="json")
    assert changed.status_code == 200, changed.data
    assert (changed.data["anonymity_threshold"], changed.data["anonymity_override_reason"]) == (3, REASON)
    home.wave.refresh_from_db()
    assert (home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == (3, REASON)
    event = overrides().get()
    assert (event.user, event.username, event.wave, event.organization) == (owner, "owner", home.wave, home.org)
    # The wave has six staff responses: how many is said, which is not.
    assert event.details == {"old_threshold": 5, "new_threshold": 3, "reason": REASON, "previous_reason": "",
                             "staff_responses": 6}
    assert set(event.details) == DETAIL_KEYS


def test_the_reason_is_readable_by_members_and_in_the_wave(home, owner_client, analyst_client):
    owner_client.patch(wave_url(home.wave), {"anonymity_threshold": 4, "anonymity_override_reason": REASON},
                       format="json")
    body = analyst_client.get(wave_url(home.wave)).data
    assert (body["anonymity_threshold"], body["anonymity_override_reason"]) == (4, REASON)


def test_another_threshold_below_five_needs_the_reason_again_but_other_settings_do_not(home, owner_client):
    url = wave_url(home.wave)
    assert owner_client.patch(url, {"anonymity_threshold": 4, "anonymity_override_reason": REASON},
                              format="json").status_code == 200
    # 4 → 3 is a new override: the reason is given again, in the same request.
    refused = owner_client.patch(url, {"anonymity_threshold": 3}, format="json")
    assert refused.status_code == 400 and "anonymity_override_reason" in refused.data
    # The reason cannot be blanked while the threshold is below 5.
    blanked = owner_client.patch(url, {"anonymity_override_reason": ""}, format="json")
    assert blanked.status_code == 400 and "anonymity_override_reason" in blanked.data
    # Unrelated settings, and repeating the same threshold, need nothing new and audit nothing.
    assert owner_client.patch(url, {"name": "Renamed"}, format="json").status_code == 200
    assert owner_client.patch(url, {"anonymity_threshold": 4}, format="json").status_code == 200
    home.wave.refresh_from_db()
    assert (home.wave.name, home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == (
        "Renamed", 4, REASON)
    assert overrides().count() == 1
    # A new reason for the same override is itself audited.
    assert owner_client.patch(url, {"anonymity_override_reason": "Works council, 2025-04."},
                              format="json").status_code == 200
    event = overrides().first()
    assert (event.details["old_threshold"], event.details["new_threshold"], event.details["reason"],
            event.details["previous_reason"]) == (4, 4, "Works council, 2025-04.", REASON)


def test_raising_back_to_five_needs_no_reason_clears_it_and_is_audited(home, owner, owner_client):
    url = wave_url(home.wave)
    owner_client.patch(url, {"anonymity_threshold": 3, "anonymity_override_reason": REASON}, format="json")
    raised = owner_client.patch(url, {"anonymity_threshold": 5}, format="json")
    assert raised.status_code == 200, raised.data
    assert (raised.data["anonymity_threshold"], raised.data["anonymity_override_reason"]) == (5, "")
    lifted = overrides().first()
    assert lifted.user == owner
    assert lifted.details == {"old_threshold": 3, "new_threshold": 5, "reason": "", "previous_reason": REASON,
                              "staff_responses": 6}
    assert overrides().count() == 2


def test_thresholds_of_five_and_more_need_no_reason_and_write_no_event(home, owner_client):
    changed = owner_client.patch(wave_url(home.wave), {"anonymity_threshold": 8}, format="json")
    assert changed.status_code == 200, changed.data
    assert changed.data["anonymity_threshold"] == 8
    assert not overrides().exists()


@pytest.mark.parametrize(("role", "expected"), [("analyst", 403), ("executive", 403), ("outsider", 404),
                                                ("anonymous", 401)])
def test_other_roles_cannot_lower_the_threshold(home, clients, role, expected):
    refused = clients[role].patch(wave_url(home.wave),
                                  {"anonymity_threshold": 3, "anonymity_override_reason": REASON}, format="json")
    assert refused.status_code == expected, refused.data
    home.wave.refresh_from_db()
    assert (home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == (5, "")
    assert not overrides().exists()


# --------------------------------------------------------------------------- API: create


def _create(client, home, **fields):
    body = {"organization": home.org.pk, "instrument": home.instrument.pk, "name": "Small team", "slug": "small"}
    return client.post("/api/v1/waves/", {**body, **fields}, format="json")


def test_creating_a_wave_below_five_needs_a_reason_and_is_audited(home, owner, owner_client):
    refused = _create(owner_client, home, anonymity_threshold=3)
    assert refused.status_code == 400 and "anonymity_override_reason" in refused.data, refused.data
    assert not m.Wave.objects.filter(slug="small").exists()
    created = _create(owner_client, home, anonymity_threshold=3, anonymity_override_reason=REASON)
    assert created.status_code == 201, created.data
    assert (created.data["anonymity_threshold"], created.data["anonymity_override_reason"]) == (3, REASON)
    event = overrides().get()
    assert (event.user, event.wave.slug) == (owner, "small")
    assert event.details == {"old_threshold": None, "new_threshold": 3, "reason": REASON, "previous_reason": "",
                             "staff_responses": 0}


def test_creating_a_wave_at_five_or_more_keeps_no_reason_and_writes_no_event(home, owner_client):
    created = _create(owner_client, home, anonymity_threshold=6, anonymity_override_reason="not needed")
    assert created.status_code == 201, created.data
    assert (created.data["anonymity_threshold"], created.data["anonymity_override_reason"]) == (6, "")
    assert not overrides().exists()


def test_analysts_cannot_create_a_wave_below_five(home, analyst_client):
    refused = _create(analyst_client, home, anonymity_threshold=3, anonymity_override_reason=REASON)
    assert refused.status_code == 403
    assert not overrides().exists()


# --------------------------------------------------------------------------- services


def test_the_services_apply_the_same_rule(home, owner):
    with pytest.raises(errors.ValidationFailed) as refused:
        services.wave_update(wave=home.draft, user=owner, anonymity_threshold=4)
    assert "anonymity_override_reason" in refused.value.field_errors
    with pytest.raises(errors.ValidationFailed) as refused:
        services.wave_create(organization=home.org, instrument=home.instrument, name="X", slug="x-small",
                             anonymity_threshold=3, user=owner)
    assert "anonymity_override_reason" in refused.value.field_errors
    assert not m.Wave.objects.filter(slug="x-small").exists()

    wave = services.wave_update(wave=home.draft, user=owner, anonymity_threshold=4,
                                anonymity_override_reason=f"  {REASON}  ")
    assert (wave.anonymity_threshold, wave.anonymity_override_reason) == (4, REASON)
    event = overrides(home.draft).get()
    assert (event.user, event.details["old_threshold"], event.details["new_threshold"],
            event.details["staff_responses"]) == (owner, 5, 4, 0)


def test_the_rule_itself(home):
    rule = services.wave_threshold_reason
    assert rule(threshold=5, reason=None) == ""
    assert rule(threshold=9, reason="kept?") == ""
    assert rule(threshold=3, reason=" why ") == "why"
    assert rule(threshold=3, reason=None, previous_threshold=3, previous_reason="why") == "why"
    for call in ({"reason": None}, {"reason": ""}, {"reason": " \n"},
                 {"reason": None, "previous_threshold": 4, "previous_reason": "why"},
                 {"reason": "", "previous_threshold": 3, "previous_reason": "why"},
                 {"reason": "x" * 1001}):
        with pytest.raises(errors.ValidationFailed) as refused:
            rule(threshold=3, **call)
        assert list(refused.value.field_errors) == ["anonymity_override_reason"], call


def test_a_service_call_without_a_user_is_audited_as_the_system(home):
    services.wave_update(wave=home.draft, anonymity_threshold=3, anonymity_override_reason=REASON)
    event = overrides(home.draft).get()
    assert (event.user, event.username) == (None, "")


def test_a_wave_made_through_the_orm_is_not_checked(org):
    # The rule lives in services, the API and the admin; the database only keeps the floor of 3.
    wave = f.WaveFactory(organization=org, anonymity_threshold=3)
    assert wave.anonymity_threshold == 3 and not overrides().exists()


# --------------------------------------------------------------------------- Django admin


@pytest.fixture
def site(db) -> tuple[Client, object]:
    root = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return client, root


def _change_form(wave: m.Wave, **changes) -> dict:
    links = list(wave.anonymous_links.order_by("pk"))
    data = {
        "name": wave.name, "opens_on": "", "closes_on": "", "languages": '["ja", "en"]', "default_language": "ja",
        "anonymity_threshold": wave.anonymity_threshold, "customer_threshold": wave.customer_threshold,
        "anonymity_override_reason": wave.anonymity_override_reason,
        "staff_segment_fields": "[]", "customer_segment_fields": "[]", "previous_wave": "",
        "anonymous_links-TOTAL_FORMS": len(links), "anonymous_links-INITIAL_FORMS": len(links),
        "anonymous_links-MIN_NUM_FORMS": 0, "anonymous_links-MAX_NUM_FORMS": 1000,
    }
    for i, link in enumerate(links):
        data.update({f"anonymous_links-{i}-id": link.pk, f"anonymous_links-{i}-wave": wave.pk,
                     f"anonymous_links-{i}-is_active": "on"})
    data.update(changes)
    return data


def test_the_admin_change_form_refuses_a_threshold_below_five_without_a_reason(site, home):
    client, root = site
    url = reverse("admin:surveys_wave_change", args=[home.wave.pk])
    page = client.post(url, _change_form(home.wave, anonymity_threshold=3))
    assert page.status_code == 200
    html = page.content.decode()
    assert "errorlist" in html and "reason" in html
    home.wave.refresh_from_db()
    assert home.wave.anonymity_threshold == 5
    assert not overrides().exists()

    saved = client.post(url, _change_form(home.wave, anonymity_threshold=3, anonymity_override_reason=REASON))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    home.wave.refresh_from_db()
    assert (home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == (3, REASON)
    event = overrides().get()
    assert (event.user, event.username, event.wave) == (root, "root", home.wave)
    assert event.details == {"old_threshold": 5, "new_threshold": 3, "reason": REASON, "previous_reason": "",
                             "staff_responses": 6}


def test_the_admin_change_form_lifts_an_override_and_edits_other_fields_without_one(site, home):
    client, _ = site
    services.wave_update(wave=home.wave, anonymity_threshold=3, anonymity_override_reason=REASON)
    url = reverse("admin:surveys_wave_change", args=[home.wave.pk])
    renamed = client.post(url, _change_form(home.wave, name="Renamed"))
    assert renamed.status_code == 302, renamed.content.decode()[:3000]
    assert overrides().count() == 1
    home.wave.refresh_from_db()
    raised = client.post(url, _change_form(home.wave, anonymity_threshold=5, anonymity_override_reason=""))
    assert raised.status_code == 302, raised.content.decode()[:3000]
    home.wave.refresh_from_db()
    assert (home.wave.name, home.wave.anonymity_threshold, home.wave.anonymity_override_reason) == ("Renamed", 5, "")
    assert overrides().first().details["new_threshold"] == 5


def test_the_admin_add_form_applies_the_rule_and_audits(site, home):
    client, root = site
    data = {"organization": home.org.pk, "instrument": home.instrument.pk, "name": "Small", "slug": "small-admin",
            "languages": '["ja"]', "default_language": "ja", "anonymity_threshold": 4, "customer_threshold": 5,
            "staff_segment_fields": "[]", "customer_segment_fields": "[]"}
    page = client.post(reverse("admin:surveys_wave_add"), data)
    assert page.status_code == 200 and "errorlist" in page.content.decode()
    assert not m.Wave.objects.filter(slug="small-admin").exists()
    saved = client.post(reverse("admin:surveys_wave_add"), {**data, "anonymity_override_reason": REASON})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    wave = m.Wave.objects.get(slug="small-admin")
    assert (wave.anonymity_threshold, wave.anonymity_override_reason) == (4, REASON)
    assert overrides(wave).get().user == root


# --------------------------------------------------------------------------- OpenAPI


def test_the_schema_documents_the_reason():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert components["Wave"]["properties"]["anonymity_override_reason"]["readOnly"] is True
    assert "readOnly" not in components["PatchedWaveWriteRequest"]["properties"]["anonymity_override_reason"]
    assert "anonymity_override_reason" in components["WaveWriteRequest"]["properties"]


# --------------------------------------------------------------------------- found by the fuzzer on the way


def test_a_patch_cannot_store_an_incomplete_segment_field(home, owner_client):
    # A PATCH is partial, and DRF made the nested segment fields partial too: a field without a key was a
    # 500 (KeyError), one without labels was stored as such.
    url = wave_url(home.wave)
    no_key = owner_client.patch(url, {"staff_segment_fields": [{"label_en": "x", "label_ja": "y"}]}, format="json")
    assert no_key.status_code == 400 and "staff_segment_fields" in no_key.data, no_key.data
    no_label = owner_client.patch(url, {"customer_segment_fields": [{"key": "tier"}]}, format="json")
    assert no_label.status_code == 400 and "customer_segment_fields" in no_label.data, no_label.data
    whole = owner_client.patch(url, {"staff_segment_fields": [{"key": "team", "label_en": "Team", "label_ja": "班"}]},
                               format="json")
    assert whole.status_code == 200, whole.data
    home.wave.refresh_from_db()
    assert home.wave.staff_segment_fields == [{"key": "team", "label_en": "Team", "label_ja": "班", "choices": [],
                                               "choice_labels": {}, "ask_anonymous": True}]


def test_the_default_threshold_of_new_waves_comes_from_the_settings_and_is_never_below_five(home, settings):
    settings.KAGAMI_DEFAULT_ANONYMITY_THRESHOLD = 7
    wave = services.wave_create(organization=home.org, instrument=home.instrument, name="Seven", slug="seven")
    assert wave.anonymity_threshold == 7 and not overrides().filter(wave=wave).exists()
    check = subprocess.run([sys.executable, "-c", "import django; django.setup()"], capture_output=True, text=True,
                           env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings",
                                "DEBUG": "true", "KAGAMI_DEFAULT_ANONYMITY_THRESHOLD": "3"})
    assert check.returncode != 0 and "KAGAMI_DEFAULT_ANONYMITY_THRESHOLD" in check.stderr
