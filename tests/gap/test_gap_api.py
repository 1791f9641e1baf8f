"""GET /api/v1/waves/<id>/gap/: who may read it, what it returns, and bad input."""

from __future__ import annotations

import json

import pytest

from reports import services


@pytest.fixture
def url(gap_wave):
    return f"/api/v1/waves/{gap_wave[0].pk}/gap/"


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("admin", 200), ("analyst", 200), ("executive", 200), ("outsider", 404)],
)
def test_only_members_of_the_organization_read_the_gap(clients, url, who, status):
    response = clients[who].get(url)
    assert response.status_code == status, response.content
    if status != 200:
        assert set(response.json()) == {"detail", "code"}


def test_the_api_returns_exactly_the_engine_numbers(analyst_client, gap_wave, url):
    wave, _ = gap_wave
    body = analyst_client.get(url, {"staff": "department:Sales", "customer": "tier:Gold"}).json()
    expected = services.gap_analysis(wave=wave, staff_filter={"department": "Sales"},
                                     customer_filter={"tier": "Gold"})
    assert body["filters"]["staff"] == {"department": "Sales"}
    got = {i["key"]: i for i in body["items"]}
    for item in expected["items"]:
        assert got[item["key"]]["gap"] == item["gap"]
        assert got[item["key"]]["welch"] == item["welch"]
        assert got[item["key"]]["classification"]["class"] == item["classification"]["class"]
    assert [d["gap"] for d in body["dimensions"]] == [d["gap"] for d in expected["dimensions"]]
    assert "NaN" not in json.dumps(body) and "Infinity" not in json.dumps(body)


def test_a_second_request_on_unchanged_data_is_served_from_the_cache(
    analyst_client, url, django_assert_max_num_queries
):
    first = analyst_client.get(url).json()
    with django_assert_max_num_queries(12):
        second = analyst_client.get(url).json()
    assert first == second


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"staff": "salary:high"}, "staff"),
        ({"staff": "department"}, "staff"),
        ({"customer": "tier:Gold", "weighted": "perhaps"}, "weighted"),
        ({"compare_wave": "abc"}, "compare_wave"),
        ({"compare_wave": "999999"}, "compare_wave"),
        ({"dimension_correction": "bonferroni"}, "dimension_correction"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(analyst_client, url, params, field):
    response = analyst_client.get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and field in body


def test_a_suppressed_staff_group_returns_no_numbers(analyst_client, url):
    body = analyst_client.get(url, {"staff": "department:Legal"}).json()
    for item in body["items"]:
        assert item["report_status"] == "suppressed_anonymity"
        assert item["n_staff"] is None and item["mean_staff"] is None and item["counts_staff"] is None
    assert body["response_counts"]["staff"] is None


def test_a_non_numeric_wave_id_is_a_404(analyst_client):
    assert analyst_client.get("/api/v1/waves/abc/gap/").status_code == 404


def test_every_gap_view_is_written_to_the_audit_log_readable_by_admins(
    analyst_client, owner_client, executive_client, outsider_client, gap_wave, url, analyst
):
    wave, _ = gap_wave
    analyst_client.get(url, {"staff": "department:Sales", "segments": "false"})
    analyst_client.get(url, {"segments": "false"})  # every read of staff-derived data is audited (P7)
    analyst_client.get(url, {"segments": "false"})  # a cached answer too
    body = owner_client.get("/api/v1/audit-events/", {"wave": wave.pk}).json()
    events = [e for e in body["results"] if e["username"] == "analyst"]
    assert len(events) == 3
    assert {e["action"] for e in events} == {"gap_view"} and {e["wave"] for e in events} == {wave.pk}
    assert [e["details"]["staff"] for e in events] == [{}, {}, {"department": "Sales"}]  # newest first
    assert executive_client.get("/api/v1/audit-events/").status_code == 403
    assert outsider_client.get("/api/v1/audit-events/").json()["results"] == []


def test_two_staff_segments_gaps_are_compared_directly(analyst_client, gap_wave, url):
    wave, submitted = gap_wave
    body = analyst_client.get(url + "segments/", {"side": "staff", "field": "department", "first": "Sales",
                                                   "second": "Engineering"}).json()
    s1 = next(i for i in body["items"] if i["key"] == "s1")
    if s1["report_status"].startswith("suppressed"):
        assert s1["difference"] is None
    else:
        def mean(dept):
            vals = [s["answers"]["s1"] for s in submitted if s["side"] == "staff"
                    and s["segments"]["department"] == dept and s["answers"]["s1"] != "na"]
            return sum(vals) / len(vals)

        # The shared customer mean cancels: gap(Sales) − gap(Engineering) = mean(Sales) − mean(Engineering).
        assert s1["difference"] == pytest.approx(mean("Sales") - mean("Engineering"), rel=1e-9)
    legal = analyst_client.get(url + "segments/", {"side": "staff", "field": "department", "first": "Legal",
                                                    "second": "Sales"}).json()
    assert all(i["difference"] is None and i["n_group_1"] is None for i in legal["items"] + legal["dimensions"])
    bad = analyst_client.get(url + "segments/", {"side": "staff", "field": "salary", "first": "a", "second": "b"})
    assert bad.status_code == 400 and "field" in bad.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"staff": "tenure:10y"}, "staff"),  # tenure has configured choices: <1y, 1-3y, 3-5y, 5y+
        ({"customer": "touch_model:medium"}, "customer"),  # high, low, tech
    ],
)
def test_a_filter_on_a_value_outside_the_fields_choices_is_a_400_listing_them(analyst_client, url, params, field):
    response = analyst_client.get(url, params)
    assert response.status_code == 400, response.content
    message = " ".join(response.json()[field])
    assert "is not one of" in message and ("<1y" in message or "tech" in message)


def test_a_filter_on_a_listed_choice_nobody_chose_is_answered_not_refused(analyst_client, url):
    assert analyst_client.get(url, {"staff": "tenure:5y+", "segments": "false"}).status_code == 200


def test_a_free_text_value_that_does_not_exist_looks_exactly_like_a_small_group(analyst_client, url):
    """Free-text segments have no list of values: answering 400 for an absent one would let anyone probe which
    departments exist. An absent value and a present one under k must be indistinguishable."""
    absent = analyst_client.get(url, {"staff": "department:Astrology", "segments": "false"}).json()
    small = analyst_client.get(url, {"staff": "department:Legal", "segments": "false"}).json()
    for body in (absent, small):
        body.pop("filters")
    assert absent == small


def test_the_segment_comparison_refuses_values_outside_the_choices_too(analyst_client, url):
    bad = analyst_client.get(url + "segments/", {"side": "staff", "field": "tenure", "first": "10y",
                                                  "second": "<1y"})
    assert bad.status_code == 400 and "first" in bad.json()


def test_a_cached_gap_never_outlives_a_change_of_what_it_shows(analyst_client, owner, gap_wave, url):
    """The cached answer is keyed by everything it is computed from, not only by the answers: new invitations
    (response rates), the wave's segment fields and the organisation's name change it too."""
    from surveys import services as survey_services
    from surveys.models import Organization, Wave

    wave, _ = gap_wave
    before = analyst_client.get(url, {"segments": "false"}).json()
    survey_services.invitation_create(wave=wave, side="customer", email="late@example.com")
    after = analyst_client.get(url, {"segments": "false"}).json()
    assert after["response_rates"]["customer"]["invited"] == before["response_rates"]["customer"]["invited"] + 1
    Organization.objects.filter(pk=wave.organization_id).update(display_name_en="Renamed Corp")
    renamed = analyst_client.get(url, {"segments": "false"}).json()
    assert renamed["wave"]["organization"]["company_name"] == "Renamed Corp"
    grouped = analyst_client.get(url, {"segments": "true"}).json()
    assert "tier" in {entry["field"] for entry in grouped["segments"]["customer"]}
    fields = [f for f in wave.customer_segment_fields if f["key"] != "tier"]
    Wave.objects.filter(pk=wave.pk).update(customer_segment_fields=fields)
    narrowed = analyst_client.get(url, {"segments": "true"}).json()
    assert "tier" not in {entry["field"] for entry in narrowed["segments"]["customer"]}
