"""GET /api/v1/waves/<id>/gap/: who may read it, what it returns, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

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
    first = analyst_client.get(url)
    with django_assert_max_num_queries(12):
        second = analyst_client.get(url)
    assert first.json() == second.json()
    # The cached body is served as it was encoded the first time, byte for byte, as JSON.
    assert second.content == first.content
    assert second["Content-Type"] == "application/json"


def test_the_cached_json_is_what_the_serializer_renders_and_other_renderings_still_work(analyst_client, url,
                                                                                     gap_wave):
    from rest_framework.renderers import JSONRenderer

    from reports import gap
    from reports.api.gap_serializers import GapAnalysisSerializer

    analyst_client.get(url)  # computed, then cached
    cached = analyst_client.get(url)
    fresh = JSONRenderer().render(GapAnalysisSerializer(gap.gap_result(gap_wave[0], gap.GapView())).data)
    assert cached.content == fresh
    indented = analyst_client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200 and b'\n  "' in indented.content
    assert json.loads(indented.content) == cached.json()
    page = analyst_client.get(url, {"format": "api"}, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"staff": "salary:high"}, "staff"),
        ({"staff": "department"}, "staff"),
        ({"customer": "tier:Gold", "weighted": "perhaps"}, "weighted"),
        ({"compare_wave": "abc"}, "compare_wave"),
        ({"compare_wave": "999999"}, "compare_wave"),
        ({"dimension_correction": "bonferroni"}, "dimension_correction"),
        ({"bootstrap": "jackknife"}, "bootstrap"),
        ({"bootstrap": "bca", "bootstrap_reps": "10"}, "bootstrap_reps"),
        ({"bootstrap": "bca", "bootstrap_reps": "1000000"}, "bootstrap_reps"),
        ({"bootstrap": "percentile", "bootstrap_reps": "many"}, "bootstrap_reps"),
        ({"bootstrap_reps": "2000"}, "bootstrap_reps"),
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


DID_FIELDS = {"key", "n_staff_wave1", "n_customer_wave1", "n_staff_wave2", "n_customer_wave2", "gap_wave1",
              "gap_wave1_ci_low", "gap_wave1_ci_high", "gap_wave2", "gap_wave2_ci_low", "gap_wave2_ci_high", "did",
              "se", "df", "t", "p", "ci_low", "ci_high", "ci_excludes_zero", "report_status", "undefined"}


def _answers(wave, side: str, key: str) -> list[int]:
    from surveys.models import Answer

    return list(Answer.objects.filter(response__wave=wave, response__side=side, response__release__isnull=False,
                                      item__key=key, value__isnull=False).values_list("value", flat=True))


def test_the_change_of_each_gap_carries_everything_the_engine_computes(analyst_client, gap_wave, earlier_wave, url):
    """docs/methods.md §7: n per side per wave, each wave's gap with its interval, ci_excludes_zero and the
    top-box change reach the API exactly as the engine computes them."""
    wave, _ = gap_wave
    body = analyst_client.get(url, {"compare_wave": earlier_wave.pk, "segments": "false"}).json()
    expected = services.gap_analysis(wave=wave, compare_wave=earlier_wave, segments=False)["did"]
    assert body["did"]["compare_wave"] == {"id": earlier_wave.pk, "name": "H1 earlier"}
    for level in ("items", "dimensions"):
        assert [e["key"] for e in body["did"][level]] == [e["key"] for e in expected[level]]
        for got, want in zip(body["did"][level], expected[level], strict=True):
            fields = DID_FIELDS | ({"topbox_did"} if level == "items" else set())
            assert set(got) == fields
            assert got == {k: want[k] for k in fields}
    # Against scipy and a hand computation on each wave's released answers to s1: the published answers (the
    # ORM, not the count tables) less those the disclosure layer withholds (each wave's own item entry says how
    # many; here the earlier wave's small blocks); then the released counts of each wave's own entry.
    s1 = next(e for e in body["did"]["items"] if e["key"] == "s1")
    groups = []
    for w in (earlier_wave, wave):
        entry = next(i for i in services.gap_analysis(wave=w, segments=False)["items"] if i["key"] == "s1")
        for side in ("staff", "customer"):
            assert entry[f"n_{side}"] == len(_answers(w, side, "s1")) - entry["withheld"][side]
            groups.append(np.repeat([1, 2, 3, 4, 5], entry[f"counts_{side}"]))
    assert [s1[f"n_{g}"] for g in ("staff_wave1", "customer_wave1", "staff_wave2", "customer_wave2")] == [
        len(g) for g in groups]
    for w, (staff, cust) in (("wave1", groups[:2]), ("wave2", groups[2:])):
        ref = sps.ttest_ind(staff, cust, equal_var=False).confidence_interval(0.95)
        assert s1[f"gap_{w}_ci_low"] == pytest.approx(ref.low, rel=1e-9)
        assert s1[f"gap_{w}_ci_high"] == pytest.approx(ref.high, rel=1e-9)
    assert s1["ci_excludes_zero"] is (s1["ci_low"] > 0 or s1["ci_high"] < 0)
    assert s1["did"] == pytest.approx((groups[2].mean() - groups[3].mean()) - (groups[0].mean() - groups[1].mean()))
    shares = [np.isin(g, (4, 5)).mean() for g in groups]  # the item's top box
    tb = s1["topbox_did"]
    assert tb["diff"] == pytest.approx((shares[2] - shares[3]) - (shares[0] - shares[1]), rel=1e-12)
    se = math.sqrt(sum(p * (1 - p) / len(g) for p, g in zip(shares, groups, strict=True)))
    assert tb["se"] == pytest.approx(se, rel=1e-12)
    # the interval: MOVER from each group's Wilson limits (statsmodels), signs (−, +, +, −) (docs/methods.md §7)
    wilson = [proportion_confint(int(np.isin(g, (4, 5)).sum()), len(g), method="wilson") for g in groups]
    below = [p - lo for p, (lo, _) in zip(shares, wilson, strict=True)]
    above = [hi - p for p, (_, hi) in zip(shares, wilson, strict=True)]
    low = tb["diff"] - math.sqrt(above[0] ** 2 + below[1] ** 2 + below[2] ** 2 + above[3] ** 2)
    high = tb["diff"] + math.sqrt(below[0] ** 2 + above[1] ** 2 + above[2] ** 2 + below[3] ** 2)
    assert tb["ci_low"] == pytest.approx(low, rel=1e-9)
    assert tb["ci_high"] == pytest.approx(high, rel=1e-9)
    assert tb["low_base"] is (min(len(g) for g in groups) < 30)


def test_the_change_of_a_hidden_staff_group_tells_nothing(analyst_client, earlier_wave, url):
    """Legal (3 staff) is released in neither wave: its change is suppressed, with no staff n (not even 0, which
    would say "nobody" where there are three) and no number, top box included (docs/methods.md §5.1)."""
    body = analyst_client.get(url, {"compare_wave": earlier_wave.pk, "staff": "department:Legal",
                                    "segments": "false"}).json()
    entries = [*body["did"]["items"], *body["did"]["dimensions"]]
    assert entries
    for entry in entries:
        assert entry["report_status"] == "suppressed_anonymity"
        assert entry["n_staff_wave1"] is None and entry["n_staff_wave2"] is None
        numbers = {k: v for k, v in entry.items() if k not in ("key", "report_status", "undefined")
                   and not k.startswith("n_customer")}
        numbers.update({f"topbox_did.{k}": v for k, v in (numbers.pop("topbox_did", None) or {}).items()})
        assert all(v is None for v in numbers.values()), entry
        assert "n_staff_wave1: this selection is not released (fewer than the threshold)" in entry["undefined"]
        assert not any("no_data" in reason or "no responses" in reason for reason in entry["undefined"])


STATS = ("gap", "cliffs_delta", "topbox_diff")


def test_the_bootstrap_is_opt_in_seeded_and_the_librarys_on_each_items_counts(analyst_client, url):
    """docs/methods.md §2.6: ?bootstrap adds, per item, the library's interval on the released counts, seed 0."""
    from django.core.cache import cache

    from reports.stats import bootstrap_from_counts

    plain = analyst_client.get(url, {"segments": "false"}).json()
    assert "bootstrap" not in plain["filters"] and all("bootstrap" not in i for i in plain["items"])
    body = analyst_client.get(url, {"segments": "false", "bootstrap": "bca", "bootstrap_reps": "1000"}).json()
    assert body["filters"]["bootstrap"] == {"method": "bca", "n_resamples": 1000, "seed": 0}
    assert body["items"]
    for item in body["items"]:
        assert item["report_status"] in ("ok", "ok_low_base")
        boot = item["bootstrap"]
        assert (boot["method"], boot["n_resamples"], boot["seed"]) == ("bca", 1000, 0)
        for stat in STATS:
            ref = bootstrap_from_counts(item["counts_staff"], item["counts_customer"], item["levels"], statistic=stat,
                                        topbox_levels=item["topbox"]["levels"], n_resamples=1000, seed=0, method="bca")
            assert boot[stat] == {"ci_low": ref["ci_low"], "ci_high": ref["ci_high"]}, (item["key"], stat)
        assert boot["gap"]["ci_low"] < item["gap"] < boot["gap"]["ci_high"]
    # The same request computed afresh gives the same intervals; the plain view is untouched by it.
    cache.clear()
    again = analyst_client.get(url, {"segments": "false", "bootstrap": "bca", "bootstrap_reps": "1000"}).json()
    assert again == body
    assert analyst_client.get(url, {"segments": "false"}).json() == plain
    other = analyst_client.get(url, {"segments": "false", "bootstrap": "percentile", "bootstrap_reps": "1000"}).json()
    assert other["filters"]["bootstrap"]["method"] == "percentile"
    assert [i["bootstrap"]["gap"] for i in other["items"]] != [i["bootstrap"]["gap"] for i in body["items"]]


def test_the_bootstrap_and_the_result_format_are_part_of_the_cache_keys(gap_wave, monkeypatch):
    """Asked for, the bootstrap gets keys of its own (per method and resamples); not asked for, the view's keys
    are those of the view that never heard of it. A result cached by a release with another result format is
    never read: the format is part of every key."""
    from reports import gap
    from reports.api.gap_views import RENDER_NAME

    wave, _ = gap_wave
    plain = gap.cache_keys(wave, gap.GapView(staff={"department": "Sales"}, weighted=True), RENDER_NAME)
    assert plain == gap.cache_keys(wave, gap.GapView(staff={"department": "Sales"}, weighted=True, bootstrap=None,
                                                     bootstrap_reps=None), RENDER_NAME)
    booted = {gap.cache_keys(wave, gap.GapView(staff={"department": "Sales"}, weighted=True, bootstrap=method,
                                               bootstrap_reps=reps), RENDER_NAME)
              for method in ("bca", "percentile") for reps in (1000, 2000)}
    assert len(booted) == 4 and all(set(keys).isdisjoint(plain) for keys in booted)
    monkeypatch.setattr(gap, "ANALYSIS_FORMAT", gap.ANALYSIS_FORMAT + 1)
    assert set(gap.cache_keys(wave, gap.GapView(staff={"department": "Sales"}, weighted=True),
                              RENDER_NAME)).isdisjoint(plain)


def test_a_hidden_group_gets_no_bootstrap_interval(analyst_client, url):
    """The intervals are a function of the released counts only: where those are hidden, so are they."""
    body = analyst_client.get(url, {"staff": "department:Legal", "bootstrap": "percentile",
                                    "segments": "false"}).json()
    for item in body["items"]:
        assert item["report_status"] == "suppressed_anonymity"
        assert all(item["bootstrap"][stat] == {"ci_low": None, "ci_high": None} for stat in STATS)
