"""Touchpoint scores (issue 16, item 3): the readers' tables against a hand computation, the statistics against
scipy, the journey's order and names, and the attacker who hopes a half-answered touchpoint shows a small group.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from reports.counts import groupby
from reports.services import gap_analysis
from surveys import models as m
from surveys import releases, services
from tests import factories as f

# (staff answers, customer answers): one row per respondent, None = not asked/answered, "na" = N/A.
KEYS = ["a1", "a2", "x1", "b1"]
STAFF = [
    {"a1": 5, "a2": 4, "x1": 5, "b1": 2}, {"a1": 4, "a2": 4, "x1": "na", "b1": 1}, {"a1": 5, "a2": 5, "x1": 4},
    {"a1": 3, "a2": 4, "x1": 5, "b1": 2}, {"a1": 4, "x1": 4, "b1": 3}, {"a1": 5, "a2": 3, "x1": 3, "b1": 1},
    {"a2": 4, "b1": 2},
]
CUSTOMERS = [
    {"a1": 2, "a2": 3, "x1": 2, "b1": 4}, {"a1": 3, "a2": 2, "x1": 3, "b1": 5}, {"a1": 2, "x1": "na", "b1": 3},
    {"a1": 4, "a2": 3, "x1": 2, "b1": 4}, {"a1": 1, "a2": 2, "x1": 1}, {"a1": 3, "a2": 3, "x1": 3, "b1": 5},
    {"a2": 2, "x1": 2, "b1": 4}, {"a1": 2, "a2": 1, "x1": 2, "b1": 2},
]
# support: a1, a2 (in dimension "speed") and x1 (no dimension); billing: b1 (reverse-keyed, 5-point: x' = 6 − x).
TOUCHPOINT_ITEMS = {"support": ["a1", "a2", "x1"], "billing": ["b1"]}
REVERSED = {"b1"}


def build(org, *, k: int = 5, staff=STAFF, customers=CUSTOMERS, staff_segments=None) -> m.Wave:
    inst = f.InstrumentFactory(organization=org, key="journey-test")
    speed = f.DimensionFactory(instrument=inst, key="speed", order=1, name_en="Speed", name_ja="スピード")
    f.ItemPairFactory(instrument=inst, dimension=speed, key="a1", order=1, touchpoint="support")
    f.ItemPairFactory(instrument=inst, dimension=speed, key="a2", order=2, touchpoint="support")
    f.ItemPairFactory(instrument=inst, dimension=None, key="x1", order=3, touchpoint="support")
    f.ItemPairFactory(instrument=inst, dimension=None, key="b1", order=4, touchpoint="billing", reverse_keyed=True)
    wave = services.wave_create(organization=org, instrument=inst, name="Journey", slug=f"journey-{org.pk}",
                                anonymity_threshold=k, customer_threshold=k)
    services.wave_open(wave=wave)
    for side, rows in (("staff", staff), ("customer", customers)):
        for index, answers in enumerate(rows):
            segments = (staff_segments or [{}] * len(rows))[index] if side == "staff" else {}
            inv = services.invitation_create(wave=wave, side=side, segments=segments)
            services.response_submit(wave=wave, side=side, answers=answers, language="en", channel="invitation",
                                     invitation=inv.invitation, required=False)
    releases.publish_due(wave)
    return wave


def hand_scores(rows: list[dict], key: str) -> list[tuple[int, int]]:
    """Each respondent's (sum, count) over the touchpoint's answered items, recoded; those with none left out."""
    out = []
    for answers in rows:
        values = [answers[i] for i in TOUCHPOINT_ITEMS[key] if isinstance(answers.get(i), int)]
        values = [6 - v if i in REVERSED else v for i, v in zip(
            [i for i in TOUCHPOINT_ITEMS[key] if isinstance(answers.get(i), int)], values, strict=True)]
        if values:
            out.append((sum(values), len(values)))
    return out


def test_the_group_by_reader_counts_touchpoint_scores_as_a_hand_computation(org):
    wave = build(org)
    table = groupby.touchpoint_score_table(wave)
    assert list(table.columns[:4]) == ["side", "touchpoint", "s", "c"] and list(table.columns[-3:]) == ["n", "w", "w2"]
    for side, rows in (("staff", STAFF), ("customer", CUSTOMERS)):
        for key in TOUCHPOINT_ITEMS:
            got = table[(table.side == side) & (table.touchpoint == key)]
            counted = {(int(s), int(c)): int(n) for s, c, n in zip(got.s, got.c, got.n, strict=True)}
            expected: dict[tuple[int, int], int] = {}
            for pair in hand_scores(rows, key):
                expected[pair] = expected.get(pair, 0) + 1
            assert counted == expected, (side, key)


def test_each_touchpoint_gap_is_welchs_test_on_the_hand_made_scores_in_journey_order(org):
    wave = build(org)
    result = gap_analysis(wave=wave, segments=False)
    entries = {e["key"]: e for e in result["touchpoints"]}
    # The organization's journey order (defaults: … support, billing …), not the order of the keys.
    assert [e["key"] for e in result["touchpoints"]] == ["support", "billing"]
    assert [e["order"] for e in result["touchpoints"]] == [0, 1]
    assert entries["support"]["name"] == "Support" and entries["support"]["item_keys"] == ["a1", "a2", "x1"]
    for key in TOUCHPOINT_ITEMS:
        half = math.ceil(len(TOUCHPOINT_ITEMS[key]) / 2)
        staff = [s / c for s, c in hand_scores(STAFF, key) if c >= half]
        cust = [s / c for s, c in hand_scores(CUSTOMERS, key) if c >= half]
        ref = st.ttest_ind(staff, cust, equal_var=False)
        ci = ref.confidence_interval(0.95)
        e = entries[key]
        assert (e["n_staff"], e["n_customer"]) == (len(staff), len(cust))
        assert e["gap"] == pytest.approx(np.mean(staff) - np.mean(cust), abs=1e-12)
        assert e["welch"]["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert (e["welch"]["ci_low"], e["welch"]["ci_high"]) == (pytest.approx(ci.low, rel=1e-9),
                                                                 pytest.approx(ci.high, rel=1e-9))
        assert e["report_status"] in ("ok", "ok_low_base") and e["classification"]["class"] is not None
    # Its own family of two: the BH-adjusted p of the larger p equals that p.
    ps = sorted(e["welch"]["p"] for e in entries.values())
    assert max(e["p_adjusted"]["welch_bh"] for e in entries.values()) == pytest.approx(ps[-1])


def test_the_journey_follows_the_organizations_order_and_names(org):
    wave = build(org)
    services.touchpoint_update(organization=org, key="billing", changes={"name_en": "Invoices"})
    keys = [t.key for t in m.Touchpoint.objects.filter(organization=org).order_by("order")]
    keys.remove("billing")
    keys.insert(0, "billing")
    services.touchpoint_reorder(organization=org, keys=keys)
    result = gap_analysis(wave=wave, segments=False)
    assert [(e["key"], e["name"]) for e in result["touchpoints"]] == [("billing", "Invoices"), ("support", "Support")]
    services.touchpoint_delete(organization=org, key="billing")  # frozen version: allowed, default name returns
    result = gap_analysis(wave=wave, segments=False, language="ja")
    assert [(e["key"], e["name"]) for e in result["touchpoints"]] == [("support", "サポート"),
                                                                      ("billing", "請求・支払い")]


def test_a_wave_without_touchpoints_has_an_empty_journey(org):
    inst = f.InstrumentFactory(organization=org, key="plain")
    f.ItemPairFactory(instrument=inst, dimension=f.DimensionFactory(instrument=inst, key="d"), key="p1")
    wave = services.wave_create(organization=org, instrument=inst, name="Plain", slug="plain-journey")
    assert gap_analysis(wave=wave, segments=False)["touchpoints"] == []
    assert groupby.touchpoint_score_table(wave).empty


def test_the_attacker_cannot_see_a_group_below_k_through_a_half_answered_touchpoint(org, owner):
    """Sales has 6 staff but only 3 answered the billing item: Sales's billing answers are withheld, so the
    all-staff billing score must count Support only, and differencing views gives nothing about Sales."""
    k = 5
    staff = ([{"a1": 5, "a2": 5, "x1": 5, "b1": 1}] * 3 + [{"a1": 5, "a2": 5, "x1": 5}] * 3
             + [{"a1": 3, "a2": 3, "x1": 3, "b1": 4}] * 6)
    segments = [{"department": "Sales"}] * 6 + [{"department": "Support"}] * 6
    wave = build(org, k=k, staff=staff, customers=CUSTOMERS, staff_segments=segments)
    everyone = {e["key"]: e for e in gap_analysis(wave=wave, segments=False)["touchpoints"]}
    support_only = {e["key"]: e for e in gap_analysis(wave=wave, segments=False,
                                                      staff_filter={"department": "Support"})["touchpoints"]}
    sales_result = gap_analysis(wave=wave, segments=False, staff_filter={"department": "Sales"})
    sales = {e["key"]: e for e in sales_result["touchpoints"]}
    sales_b1 = next(i for i in sales_result["items"] if i["key"] == "b1")
    billing = everyone["billing"]
    assert billing["n_staff"] == support_only["billing"]["n_staff"] == 6
    assert billing["mean_staff"] == support_only["billing"]["mean_staff"] == pytest.approx(2.0)  # 6 − 4, Support
    assert billing["withheld"]["staff"] == 3
    # As the item itself: Sales's block gave fewer than k billing answers, so none of them is shown, only
    # counted as withheld (docs/methods.md §5.1).
    assert sales["billing"]["report_status"] == sales_b1["report_status"] not in ("ok", "ok_low_base")
    assert sales["billing"]["mean_staff"] is None and not sales["billing"]["n_staff"]
    assert sales["billing"]["withheld"]["staff"] == sales_b1["withheld"]["staff"] == 3
    # The fully answered touchpoint is shown for Sales (6 ≥ k): suppression is per unit, not per group.
    assert sales["support"]["n_staff"] == 6 and sales["support"]["mean_staff"] == pytest.approx(5.0)
    # Nothing in the whole result of any view carries Sales's three billing answers.
    for view in (everyone, support_only, sales):
        assert view["billing"]["mean_staff"] in (None, pytest.approx(2.0))


# --------------------------------------------------------------------------- the journey chart, page and PDF


def test_the_journey_chart_draws_touchpoints_in_order_escapes_names_and_dashes_a_missing_one():
    from reports.pdf.charts import journey_chart

    rows = [{"name": "<b>First</b>", "mean_staff": 4.2, "mean_customer": 3.1, "gap": 1.1, "ci_low": 0.6,
             "ci_high": 1.6, "gap_display": "+1.10"},
            {"name": "Support", "mean_staff": None, "mean_customer": None, "gap": None, "gap_display": "—"},
            {"name": "Billing", "mean_staff": 3.0, "mean_customer": 3.4, "gap": -0.4, "ci_low": -0.9,
             "ci_high": 0.1, "gap_display": "−0.40"}]
    svg = journey_chart(rows, staff_label="Staff", customer_label="Customers", gap_label="Gap", means_label="Mean",
                        title="Customer journey")
    assert "<b>" not in svg and "&lt;b&gt;First&lt;/b&gt;" in svg
    assert svg.index("First") < svg.index("Support") < svg.index("Billing")
    assert svg.count("<circle") == 3 and "\u2014" in svg  # two staff dots and the legend's; a dash for Support
    assert "+1.10" in svg and "−0.40" in svg and 'aria-label="Customer journey"' in svg


@pytest.mark.parametrize("lang,heading,support", [("en", "Customer journey", "Support"),
                                                  ("ja", "カスタマージャーニー", "サポート")])
def test_the_mirror_page_shows_the_journey_chart_and_table(org, owner, lang, heading, support):
    from django.test import Client

    wave = build(org)
    client = Client()
    client.force_login(owner)
    html = client.get(f"/reports/waves/{wave.pk}/", {"lang": lang}).content.decode()
    section = html[html.index('<section id="journey"'):]
    section = section[:section.index("</section>")]
    assert f">{heading}</h2>" in section and '<figure class="web-chart" id="journey-chart"><svg' in section
    assert f'aria-label="{heading}"' in section
    rows = [r for r in section.split('<tr class="') if 'id="touchpoint-' in r]
    assert [r.split('id="touchpoint-')[1].split('"')[0] for r in rows] == ["support", "billing"]
    result = gap_analysis(wave=wave, segments=False, language=lang)
    from reports.formatting import fmt_signed

    assert fmt_signed(result["touchpoints"][0]["gap"]) in rows[0] and support in rows[0]


def test_the_pdf_has_the_journey_section_in_both_languages(org):
    from reports.context import build_report_context
    from reports.pdf.render import render_pdf
    from tests.reports.conftest import pdf_text

    wave = build(org)
    for lang, words in (("en", ["Customer journey", "Touchpoint", "Support", "Billing"]),
                        ("ja", ["カスタマージャーニー", "タッチポイント", "サポート", "請求・支払い"])):
        ctx = build_report_context(gap_analysis(wave=wave, language=lang), language=lang, wave=wave)
        text = "".join(pdf_text(render_pdf(ctx).pdf).split())
        for word in words:
            assert "".join(word.split()) in text, (lang, word)
