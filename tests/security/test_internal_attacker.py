"""Attacking the internal-customer mirror: an executive (or an admin) trying to recover one employee's answers.

In an internal wave the customer side is employees rating the departments they used (surveys/internal.py).
Each test is a route someone with legitimate access could take; each would succeed on the obvious
implementation (employees stored as customers, one release and one block plan per side, a pooled
"all departments" view) and must fail here.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from tests.internal.conftest import make_internal_wave

pytestmark = pytest.mark.django_db

S, C = m.Side.STAFF, m.Side.CUSTOMER


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _gap(client: APIClient, wave: m.Wave, **params) -> dict:
    response = client.get(f"/api/v1/waves/{wave.pk}/gap/", params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _numbers(body: dict) -> str:
    """Everything a reader learns from a gap view, minus nothing: the whole body, canonical."""
    return json.dumps(body, sort_keys=True)


@pytest.fixture
def world(org, owner, executive):
    """k = 3. HR rated by three Sales employees and the victim (R&D); IT by four R&D employees."""
    w = make_internal_wave(org, k=3)
    for v in (4, 4, 5):
        w.answer(S, {"hr": v}, own="hr")
        w.answer(S, {"it": v}, own="it")
    for _ in range(3):
        w.answer(C, {"hr": 4}, division="Sales")
    w.answer(C, {"hr": 1, "it": 3}, division="R&D")  # the victim: the one R&D employee who used HR
    for _ in range(3):
        w.answer(C, {"it": 3}, division="R&D")
    return w


def test_route_rows_the_responses_list_the_exports_and_the_comments_show_no_employee_row(world, owner):
    admin = _client(owner)
    wave = world.wave
    listed = admin.get(f"/api/v1/waves/{wave.pk}/responses/", {"page_size": 500}).json()
    assert listed["count"] == 0 and listed["results"] == []
    for side in ("customer", "staff", ""):
        response = admin.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "csv", "side": side})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert len(rows) == 1, rows[:3]  # the header only
        comments = admin.get(f"/api/v1/waves/{wave.pk}/comments/", {"side": side or "customer"})
        assert comments.status_code == 200 and comments.json() == []
    assert m.SurveyResponse.objects.filter(wave=wave, release__isnull=False).count() == 14  # published all the same


def test_route_account_and_time_no_employee_row_keeps_an_invitation_account_or_time(world):
    rows = m.SurveyResponse.objects.filter(wave=world.wave)
    assert not rows.filter(invitation__isnull=False).exists()
    assert not rows.filter(customer_account__isnull=False).exists()
    assert not rows.filter(submitted_at__isnull=False).exists()
    assert set(rows.values_list("comment", flat=True)) == {""}


def test_route_invitation_list_never_says_which_employee_answered(world, owner):
    admin = _client(owner)
    body = admin.get(f"/api/v1/waves/{world.wave.pk}/invitations/", {"page_size": 500}).json()
    assert body["count"] == m.Invitation.objects.filter(wave=world.wave).count() > 0
    for row in body["results"]:
        assert row["status"] in ("pending", "sent") and row["status"] != "answered"
        assert row["last_reminded_at"] is None and row["reminder_count"] is None
    answered = admin.get(f"/api/v1/waves/{world.wave.pk}/invitations/", {"status": "answered"}).json()
    assert answered["count"] == 0
    counts = admin.get(f"/api/v1/waves/{world.wave.pk}/").json()["counts"]
    assert counts["customer"]["answered_invitations"] is None


def test_route_link_an_employee_invitation_link_is_never_shown(world, owner):
    admin = _client(owner)
    response = admin.post(f"/api/v1/waves/{world.wave.pk}/invitations/", {
        "side": "customer", "contacts": [{"email": "new@example.com", "segments": {"division": "Ops"}}]},
        format="json")
    assert response.status_code == 201, response.content
    assert [row["link"] for row in response.json()["invitations"]] == [None]


def test_route_segment_filter_inside_a_department_the_only_r_and_d_user_of_hr_stays_hidden(world, executive):
    """R&D has five employees in the wave, but only the victim rated HR: HR filtered to R&D is one person."""
    exec_client = _client(executive)
    hr_rd = _gap(exec_client, world.wave, department="hr", customer="division:R&D")
    assert not hr_rd["response_counts"]["customer"]
    assert all(i["mean_customer"] is None for i in hr_rd["items"])
    hr = _gap(exec_client, world.wave, department="hr")
    # The HR heatmap shows no number for an R&D group either: only whole blocks of at least k.
    for field in (hr.get("segments") or {}).get("customer", []):
        for row in field["groups"]:
            if row["value"] == "R&D":
                assert row["n"] is None and row["report_status"].startswith("suppressed"), row
    # Differencing the unfiltered HR view against HR filtered to Sales: the victim's block is not separable.
    hr_sales = _gap(exec_client, world.wave, department="hr", customer="division:Sales")
    n_all, n_sales = hr["response_counts"]["customer"], hr_sales["response_counts"]["customer"]
    assert not n_sales or n_all - n_sales == 0 or n_all - n_sales >= world.k


def test_route_pooling_no_view_joins_the_departments(world, executive):
    """An "all departments" view minus HR would be IT counted again with the victim's HR answers mixed in:
    every reader refuses an internal wave without a department."""
    exec_client = _client(executive)
    for url, params in ((f"/api/v1/waves/{world.wave.pk}/gap/", {}),
                        (f"/api/v1/waves/{world.wave.pk}/gap/segments/",
                         {"side": "customer", "field": "division", "first": "Sales", "second": "R&D"})):
        response = exec_client.get(url, params)
        assert response.status_code == 400 and "department" in response.json(), response.content[:200]


def test_route_two_departments_share_no_unknown(world, executive):
    """The victim is in HR's and IT's numbers; each department's numbers are about its own answers only,
    so subtracting one department's view from the other's leaves no one's answer (the counts of the two
    views are each over at least k people)."""
    exec_client = _client(executive)
    for department in ("hr", "it"):
        body = _gap(exec_client, world.wave, department=department)
        assert body["response_counts"]["customer"] >= world.k
        for item in body["items"]:
            n = item["n_customer"]
            assert n is None or n >= world.k


def test_route_waiting_one_more_employee_changes_nothing_until_k_rated_that_department(world, executive):
    exec_client = _client(executive)
    wave = world.wave
    before = {d: _numbers(_gap(exec_client, wave, department=d)) for d in ("hr", "it")}
    # Two employees answer: one rates HR and IT, one rates HR. Three new rows, but no department has k new.
    world.answer(C, {"hr": 5, "it": 5}, division="Ops")
    world.answer(C, {"hr": 5}, division="Ops")
    after = {d: _numbers(_gap(exec_client, wave, department=d)) for d in ("hr", "it")}
    assert after == before
    # A third HR rating: HR's three new ratings are published together; IT still waits for two more.
    world.answer(C, {"hr": 2}, division="Ops")
    hr = _gap(exec_client, wave, department="hr")
    assert hr["response_counts"]["customer"] == 4 + 3
    assert _numbers(_gap(exec_client, wave, department="it")) == before["it"]


def test_route_padding_the_anonymous_links_of_an_internal_wave_do_not_exist(world, client):
    for side in ("customer", "staff"):
        assert client.get(f"/s/{world.wave.slug}/{side}/").status_code == 404
        response = client.post(f"/api/v1/public/waves/{world.wave.slug}/{side}/",
                               {"answers": {i.key: 1 for i in world.items}}, content_type="application/json")
        assert response.status_code in (400, 403, 404)  # the staff link wants a ticket first
    assert not m.SurveyResponse.objects.filter(wave=world.wave, channel=m.Channel.ANONYMOUS).exists()


def test_route_threshold_an_internal_wave_keeps_at_least_three_for_employees(world, owner):
    admin = _client(owner)
    response = admin.patch(f"/api/v1/waves/{world.wave.pk}/", {"customer_threshold": 1}, format="json")
    assert response.status_code == 400 and "customer_threshold" in response.json()


def test_route_staff_invitation_cannot_carry_an_account_on_an_internal_wave(world, org):
    account = m.CustomerAccount.objects.create(organization=org, external_id="A1")
    from surveys import errors

    with pytest.raises(errors.ValidationFailed):
        services.invitation_create(wave=world.wave, side=C, email="x@example.com", customer_account=account)


def test_route_json_form_an_invitation_cannot_store_a_departmentless_row_through_the_json_api(world, client):
    """The JSON twin takes ratings per department only: plain answers (a row about no department) are a 400."""
    token = services.invitation_create(wave=world.wave, side=C, email="json@example.com",
                                       segments={"division": "Ops"}).token
    before = m.SurveyResponse.objects.filter(wave=world.wave).count()
    response = client.post(f"/api/v1/public/forms/{token}/", {"answers": {i.key: 1 for i in world.items}},
                           content_type="application/json")
    assert response.status_code == 400 and "ratings" in response.json()
    assert m.SurveyResponse.objects.filter(wave=world.wave).count() == before
    assert not m.InvitationUse.objects.filter(invitation__email="json@example.com").exists()


# --------------------------------------------------------------------------- the solver, per department


@pytest.mark.parametrize("seed", [11, 12])
def test_no_combination_of_a_departments_released_numbers_recovers_fewer_than_k_employees(org, seed):
    """The exact attacker of test_disclosure_attacker.py, on a random internal wave: every view of every
    department (all employees, each division; heatmaps inside), each number checked
    to be the statistic of its set, then solved. A department's numbers are about its own rows only, and
    each person has at most one row per department, so the unknowns are (person, department) answers and
    each department is solved on its own."""
    import random

    from reports import services as gap
    from tests.internal.conftest import make_internal_wave
    from tests.security.test_disclosure_attacker import Knowledge, Semantics, read_view, recoverable_small_groups

    rng = random.Random(seed)
    w = make_internal_wave(org, k=3, slug=f"internal-solver-{seed}")
    truth: list[dict] = []

    def answers() -> dict:
        return {i.key: ("na" if rng.random() < 0.15 else rng.randint(1, 5)) for i in w.items}

    for department in ("hr", "it"):
        for _ in range(rng.randint(3, 6)):
            invitation = w.invite(S, served_department=department)
            given = answers()
            services.internal_submit(wave=w.wave, side=S, language="en", invitation=invitation,
                                     ratings={department: given}, required=False)
            truth.append({"side": "staff", "segments": {}, "channel": "invitation", "answers": given,
                          "department": department})
    divisions = ("Sales", "Ops", "R&D")
    employees = 0
    while employees < 16 or any(sum(1 for t in truth if t["side"] == "customer" and t["department"] == d) < 3
                                for d in ("hr", "it")):
        division = rng.choices(divisions, weights=(5, 3, 1))[0]
        used = [d for d in ("hr", "it") if rng.random() < 0.6] or ["it"]
        invitation = w.invite(C, division=division)
        given = {d: answers() for d in used}
        services.internal_submit(wave=w.wave, side=C, language="en", invitation=invitation, ratings=given,
                                 required=False)
        for d in used:
            truth.append({"side": "customer", "segments": {"division": division}, "channel": "invitation",
                          "answers": given[d], "department": d})
        employees += 1

    segment_views = 0
    for department in ("hr", "it"):
        rows = [t for t in truth if t["department"] == department]
        sems = [Semantics(w.wave, rows), Semantics(w.wave, rows, blocks=False)]
        know = Knowledge()
        for customer_flt in ({}, *({"division": d} for d in divisions)):
            body = gap.gap_analysis(wave=w.wave, department=department, customer_filter=customer_flt)
            read_view(sems, know, body, {}, customer_flt)
        assert know.checked > 50
        assert sum(1 for r in rows if r["side"] == "customer") == body["response_counts"]["customer"] or \
            body["response_counts"]["customer"] is None
        n_customer = len(sems[0].rows("customer"))
        segment_views += sum(1 for members in know.sets["customer"] if len(members) < n_customer)
        for side in ("staff", "customer"):
            small, recovered = recoverable_small_groups(know.sets[side], sems[0].k[side])
            assert recovered == [], f"{department} {side}: groups of {[len(g) for g in recovered]} recovered"
            assert small == [], f"{department} {side}: classes of {[len(c) for c in small]} told apart"
    assert segment_views, "some division must be released inside a department, or the test proves little"
