"""Internal waves end to end through the services and the gap API: per department, both sides protected."""

from __future__ import annotations

import pytest

from surveys import errors, services
from surveys import models as m
from tests.internal.conftest import make_internal_wave

pytestmark = pytest.mark.django_db

S, C = m.Side.STAFF, m.Side.CUSTOMER


def _gap(client, wave, **params):
    return client.get(f"/api/v1/waves/{wave.pk}/gap/", params)


def test_an_employee_who_rated_two_departments_leaves_one_unlinkable_row_for_each(internal):
    invitation = internal.answer(C, {"hr": 4, "it": 2})
    rows = m.SurveyResponse.objects.filter(wave=internal.wave)
    assert sorted(rows.values_list("served_department", flat=True)) == ["hr", "it"]
    for row in rows:  # like a staff row: no invitation, account, time or comment
        assert row.invitation_id is None and row.customer_account_id is None and row.submitted_at is None
        assert row.comment == ""
    assert m.InvitationUse.objects.filter(invitation=invitation).count() == 1
    with pytest.raises(errors.AlreadyAnswered):
        services.internal_submit(wave=internal.wave, side=C, language="en", invitation=invitation,
                                 ratings={"hr": {i.key: 3 for i in internal.items}})


def test_the_database_refuses_an_internal_row_with_a_time_or_an_invitation(internal):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        m.SurveyResponse.objects.create(wave=internal.wave, side=C, served_department="hr",
                                        submitted_at=timezone.now())


def test_staff_rate_their_own_department_from_the_roster_only(internal):
    invitation = internal.invite(S, served_department="it")
    with pytest.raises(errors.ValidationFailed) as exc:
        services.internal_submit(wave=internal.wave, side=S, language="en", invitation=invitation,
                                 ratings={"hr": {i.key: 5 for i in internal.items}})
    assert "departments" in exc.value.field_errors
    with pytest.raises(errors.ValidationFailed) as exc:
        internal.invite(S)  # a staff invitation must name the department its invitee works in
    assert "segments.served_department" in exc.value.field_errors


def test_bad_answers_name_the_department_and_the_item(internal):
    invitation = internal.invite(C, division="Ops")
    answers = {i.key: 4 for i in internal.items}
    answers[internal.items[0].key] = 9
    with pytest.raises(errors.ValidationFailed) as exc:
        services.internal_submit(wave=internal.wave, side=C, language="en", invitation=invitation,
                                 ratings={"it": answers})
    assert list(exc.value.field_errors) == [f"it.answers.{internal.items[0].key}"]
    assert not m.SurveyResponse.objects.filter(wave=internal.wave).exists()


def test_the_one_response_path_of_external_waves_refuses_an_internal_wave(internal):
    with pytest.raises(errors.ValidationFailed) as exc:
        services.response_submit(wave=internal.wave, side=C, language="en", answers={})
    assert "departments" in exc.value.field_errors


def test_the_gap_is_per_department_and_matches_a_hand_computation(internal, executive_client):
    for v in (4, 4, 5):
        internal.answer(S, {"hr": v}, own="hr")
    for v in (2, 3, 3):
        internal.answer(C, {"hr": v, "it": 5})
    hr = _gap(executive_client, internal.wave, department="hr")
    assert hr.status_code == 200, hr.content
    body = hr.json()
    assert body["wave"]["kind"] == "internal" and body["wave"]["department"] == {"key": "hr", "label": "HR"}
    assert body["response_counts"] == {"staff": 3, "customer": 3}
    item = next(i for i in body["items"] if i["key"] == "speed_fast")
    assert item["mean_staff"] == pytest.approx(13 / 3) and item["mean_customer"] == pytest.approx(8 / 3)
    assert item["counts_staff"] == [0, 0, 0, 2, 1] and item["n_customer"] == 3
    assert item["gap"] == pytest.approx(13 / 3 - 8 / 3)
    # IT: three employees rated it, no IT staff answered: no staff number, verdict and reason instead.
    it = _gap(executive_client, internal.wave, department="it").json()
    assert not it["response_counts"]["staff"]  # nothing released: 0 or null, never a small number
    item = next(i for i in it["items"] if i["key"] == "speed_fast")
    assert item["mean_staff"] is None and item["report_status"] in ("no_data", "suppressed_anonymity",
                                                                    "suppressed_min_n")
    assert item["undefined"]  # the reason is given


@pytest.mark.parametrize("params, field", [({}, "department"), ({"department": "legal"}, "department")])
def test_an_internal_wave_without_a_known_department_is_a_400_naming_the_field(internal, executive_client, params,
                                                                               field):
    response = _gap(executive_client, internal.wave, **params)
    assert response.status_code == 400 and field in response.json(), response.content


def test_an_external_wave_refuses_a_department(org, executive_client):
    from surveys.instruments.loader import builtin_instrument

    wave = services.wave_create(organization=org, instrument=builtin_instrument(), name="Ext", slug="ext")
    response = _gap(executive_client, wave, department="hr")
    assert response.status_code == 400 and "department" in response.json()


def test_an_internal_wave_needs_departments_and_an_employee_threshold_of_three(org, owner_client, owner):
    from surveys.instruments.loader import internal_instrument

    base = {"organization": org.pk, "instrument": internal_instrument().pk, "name": "I", "slug": "i1",
            "kind": "internal"}
    response = owner_client.post("/api/v1/waves/", base, format="json")
    assert response.status_code == 400 and "served_departments" in response.json()
    response = owner_client.post("/api/v1/waves/", {**base, "customer_threshold": 2, "served_departments": [
        {"key": "hr", "label_en": "HR"}]}, format="json")
    assert response.status_code == 400 and "customer_threshold" in response.json()
    response = owner_client.post("/api/v1/waves/", {**base, "served_departments": [
        {"key": "hr", "label_en": "HR", "label_ja": "人事"}]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "internal"
    assert response.json()["served_departments"] == [{"key": "hr", "label_en": "HR", "label_ja": "人事"}]


def test_a_three_person_department_at_k3(org, executive_client):
    small = make_internal_wave(org, k=3, slug="internal-k3")
    for v in (4, 5, 4):
        small.answer(S, {"it": v}, own="it")
        small.answer(C, {"it": v - 2})
    body = _gap(executive_client, small.wave, department="it").json()
    assert body["response_counts"] == {"staff": 3, "customer": 3}


def test_the_gap_command_takes_the_department_and_refuses_an_internal_wave_without_one(internal, tmp_path):
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    for v in (4, 4, 5):
        internal.answer(S, {"hr": v}, own="hr")
        internal.answer(C, {"hr": v - 2})
    with pytest.raises(CommandError, match="department"):
        call_command("gap", "--wave", internal.wave.slug, stdout=StringIO())
    out = StringIO()
    call_command("gap", "--wave", internal.wave.slug, "--department", "hr", "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["wave"]["department"]["key"] == "hr" and body["response_counts"] == {"staff": 3, "customer": 3}
    pdf = tmp_path / "hr.pdf"
    call_command("render_report", "--wave", internal.wave.slug, "--department", "hr", "--lang", "en",
                 "--out", str(pdf), "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert pdf.read_bytes().startswith(b"%PDF")
    assert m.AuditEvent.objects.filter(wave=internal.wave, details__department="hr").count() == 2
