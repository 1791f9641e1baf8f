"""Perception vs account health (issue 16, item 5): the statistic, the engine, the API, the web mirror and the PDF.

Every number is checked against an independent computation: scipy's ``spearmanr`` on account scores built
by hand from what was submitted (contacts aggregated to their account first, docs/methods.md §10).
"""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np
import pytest
from django.core.cache import cache
from scipy import stats as sps

from reports import services
from reports.context import build_report_context
from reports.pdf.render import render_pdf
from reports.stats import health_association
from surveys import models as m
from surveys import services as survey_services
from tests import factories as f
from tests.gap.conftest import build_instrument
from tests.reports.conftest import pdf_pages

DIM_ITEMS = {"culture": ["c1", "c2", "c3"], "speed": ["s1", "s2"]}


# --------------------------------------------------------------------------- the statistic


def test_rho_and_p_are_scipys_and_the_interval_is_fisher_z_with_the_bonett_wright_error():
    rng = np.random.default_rng(4)
    x = rng.integers(1, 6, 40).astype(float)
    y = np.clip(x * 12 + rng.normal(30, 15, 40), 0, 100).round()
    r = health_association(x, y, k_min=5)
    ref = sps.spearmanr(x, y)
    assert r["spearman_rho"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-9)
    rho, n = ref.statistic, 40
    half = 1.959963984540054 * math.sqrt((1 + rho**2 / 2) / (n - 3))
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(math.tanh(math.atanh(rho) - half), rel=1e-9),
                                           pytest.approx(math.tanh(math.atanh(rho) + half), rel=1e-9))
    assert r["report_status"] == "ok" and r["n_accounts"] == 40
    low = y < 50
    assert r["n_low_health"] == int(low.sum()) and r["mean_low_health"] == pytest.approx(x[low].mean())
    assert r["n_healthy"] == int((~low).sum()) and r["mean_healthy"] == pytest.approx(x[~low].mean())


def test_pairs_with_a_missing_side_are_left_out_not_shifted():
    """A missing health in the middle must drop that pair, not pair the next score with the wrong account."""
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 2.5]
    y = [10.0, 20.0, None, 40.0, 50.0, 45.0, 25.0]
    r = health_association(x, y, k_min=5)
    kept = [(a, b) for a, b in zip(x, y, strict=True) if b is not None]
    assert r["n_accounts"] == 6
    assert r["spearman_rho"] == pytest.approx(sps.spearmanr(*zip(*kept, strict=True)).statistic)
    assert r["spearman_rho"] == pytest.approx(1.0)


def test_fewer_accounts_than_k_show_nothing_but_the_status():
    r = health_association([1, 2, 3, 4], [10, 30, 20, 40], k_min=5)
    assert r["report_status"] == "suppressed_min_n"
    assert all(r[key] is None for key in ("n_accounts", "spearman_rho", "ci_low", "ci_high", "p",
                                          "n_low_health", "mean_low_health", "n_healthy", "mean_healthy"))
    assert not [p for p in ("spearman_rho", "p") if not any(u.startswith(p) for u in r["undefined"])]


def test_a_constant_side_has_no_correlation_and_says_why():
    r = health_association([3, 3, 3, 3, 3, 3], [10, 20, 60, 70, 80, 90], k_min=5)
    assert r["report_status"] == "no_variance" and r["spearman_rho"] is None
    assert any(u.startswith("spearman_rho: no_variance") for u in r["undefined"])


@pytest.mark.parametrize("health", [[-1, 20, 30], [10, 101, 30]])
def test_a_health_score_outside_0_to_100_is_refused(health):
    with pytest.raises(ValueError, match="health must lie within"):
        health_association([1, 2, 3], health)


# --------------------------------------------------------------------------- a wave with scored accounts


def _score(answers: dict, keys: list[str]) -> float | None:
    vals = [(6 - answers[k] if k == "c3" else answers[k]) for k in keys if answers.get(k, "na") != "na"]
    return sum(vals) / len(vals) if len(vals) >= -(-len(keys) // 2) else None


@pytest.fixture
def health_wave(db):
    """20 accounts (16 with a health score), two or three contacts each, 12 staff; answers drawn so that
    healthier accounts answer higher."""
    org = f.OrganizationFactory(name="Health Corp", slug="health-corp", display_name_en="Health Corp",
                                display_name_ja="ヘルス株式会社")
    wave = survey_services.wave_create(organization=org, instrument=build_instrument(org), name="H1",
                                       slug="health-h1")
    survey_services.wave_open(wave=wave)
    rng = random.Random(11)
    keys = ["c1", "c2", "c3", "s1", "s2"]
    for _ in range(12):
        inv = survey_services.invitation_create(wave=wave, side="staff", segments={})
        survey_services.response_submit(wave=wave, side="staff", answers={k: rng.randint(3, 5) for k in keys},
                                        language="en", channel="invitation", invitation=inv.invitation,
                                        required=False)
    accounts, submitted = [], []
    for a in range(20):
        health = rng.randint(5, 98) if a < 16 else None
        account = f.CustomerAccountFactory(organization=org, status="churned" if a % 5 == 0 else "active",
                                           health_score=health,
                                           health_scored_on=dt.date(2026, 6, 1 + a) if health is not None else None)
        accounts.append(account)
        center = 1.5 + 3 * (health if health is not None else 50) / 100
        for _ in range(2 + a % 2):
            answers = {k: ("na" if rng.random() < 0.1 else max(1, min(5, round(rng.gauss(center, 0.8)))))
                       for k in keys}
            answers["c3"] = 6 - answers["c3"] if answers["c3"] != "na" else "na"  # reverse keyed: asked the other way
            answers["nps"] = max(0, min(10, round(center * 2 + rng.gauss(0, 1.5))))
            inv = survey_services.invitation_create(wave=wave, side="customer", customer_account=account,
                                                    segments={})
            survey_services.response_submit(wave=wave, side="customer", answers=answers, language="en",
                                            channel="invitation", invitation=inv.invitation, required=False)
            submitted.append((account.pk, answers))
    return wave, accounts, submitted


def _expected(accounts, submitted, measure: str) -> tuple[np.ndarray, np.ndarray]:
    per_account: dict[int, list[float]] = {}
    for pk, answers in submitted:
        value = answers["nps"] if measure == "nps" else _score(answers, DIM_ITEMS[measure])
        if value is not None:
            per_account.setdefault(pk, []).append(value)
    health = {a.pk: a.health_score for a in accounts}
    pairs = [(np.mean(v), health[pk]) for pk, v in per_account.items() if health[pk] is not None]
    x, y = (np.array(col, dtype=float) for col in zip(*pairs, strict=True))
    return x, y


def test_the_engine_correlates_account_scores_with_health_as_scipy_does(health_wave):
    wave, accounts, submitted = health_wave
    health = services.gap_analysis(wave=wave, segments=False)["health"]
    assert health["n_scored"] == 16 and health["low_health_below"] == 50
    assert (health["scored_from"], health["scored_to"]) == (
        min(a.health_scored_on for a in accounts if a.health_scored_on).isoformat(),
        max(a.health_scored_on for a in accounts if a.health_scored_on).isoformat())
    by_measure = {c["measure"]: c for c in health["comparisons"]}
    assert set(by_measure) == {"culture", "speed", "nps"}
    for measure in ("culture", "speed", "nps"):
        x, y = _expected(accounts, submitted, measure)
        got = by_measure[measure]
        assert got["n_accounts"] == len(x) == 16
        assert got["spearman_rho"] == pytest.approx(sps.spearmanr(x, y).statistic, rel=1e-9), measure
        assert got["p"] == pytest.approx(sps.spearmanr(x, y).pvalue, rel=1e-6), measure
        assert got["report_status"] == "ok_low_base"
    assert by_measure["culture"]["spearman_rho"] > 0.5  # the answers were drawn to follow health


def test_fewer_scored_accounts_than_the_customer_k_show_no_figure(health_wave):
    wave, accounts, _ = health_wave
    m.CustomerAccount.objects.filter(pk__in=[a.pk for a in accounts[4:]]).update(health_score=None,
                                                                                  health_scored_on=None)
    health = services.gap_analysis(wave=wave, segments=False)["health"]
    assert health["n_scored"] is None and health["scored_from"] is None
    assert {c["report_status"] for c in health["comparisons"]} == {"suppressed_min_n"}
    assert all(c["spearman_rho"] is None and c["n_accounts"] is None for c in health["comparisons"])


def test_a_wave_whose_accounts_have_no_health_score_has_no_health_section(health_wave):
    wave, accounts, _ = health_wave
    m.CustomerAccount.objects.filter(organization=wave.organization).update(health_score=None, health_scored_on=None)
    assert services.gap_analysis(wave=wave, segments=False)["health"] is None


def test_a_new_health_score_reaches_the_cached_gap_api_at_once(health_wave, client):
    """The gap API caches under the wave's data version: a changed health score must change that version on
    every database (PostgreSQL's account trigger; elsewhere the fingerprint), or the API serves stale figures."""
    wave, accounts, _ = health_wave
    analyst = f.UserFactory(username="health-analyst")
    f.MembershipFactory(user=analyst, organization=wave.organization, role=m.Role.ANALYST)
    client.force_login(analyst)
    cache.clear()
    url = f"/api/v1/waves/{wave.pk}/gap/?segments=false"
    before = client.get(url).json()["health"]
    # Swap the health scores of the healthiest and the least healthy account: the counts per status stay.
    scored = sorted((a for a in accounts if a.health_score is not None), key=lambda a: a.health_score)
    low, high = scored[0], scored[-1]
    m.CustomerAccount.objects.filter(pk=low.pk).update(health_score=high.health_score)
    m.CustomerAccount.objects.filter(pk=high.pk).update(health_score=low.health_score)
    after = client.get(url).json()["health"]
    rho = {c["measure"]: c["spearman_rho"] for c in before["comparisons"]}
    rho_after = {c["measure"]: c["spearman_rho"] for c in after["comparisons"]}
    assert rho_after["culture"] < rho["culture"]
    assert after == services.gap_analysis(wave=wave, segments=False, language="en")["health"]


def test_the_api_returns_the_engines_health_section(health_wave, client):
    wave, _, _ = health_wave
    analyst = f.UserFactory(username="health-reader")
    f.MembershipFactory(user=analyst, organization=wave.organization, role=m.Role.EXECUTIVE)
    client.force_login(analyst)
    got = client.get(f"/api/v1/waves/{wave.pk}/gap/?segments=false&lang=en").json()["health"]
    assert got == services.gap_analysis(wave=wave, segments=False, language="en")["health"]


def test_the_schema_documents_the_health_section(client):
    schema = client.get("/api/schema/?format=json").json()
    health = schema["components"]["schemas"]["GapHealth"]["properties"]
    assert {"n_scored", "scored_from", "scored_to", "low_health_below", "comparisons"} <= set(health)
    entry = schema["components"]["schemas"]["GapHealthComparison"]["properties"]
    assert {"spearman_rho", "ci_low", "ci_high", "p", "n_accounts", "report_status"} <= set(entry)


@pytest.mark.parametrize(("lang", "title", "rho_word"), [("en", "Perception and account health", "ρ"),
                                                         ("ja", "認識とアカウントの健全性", "ρ")])
def test_the_web_mirror_shows_the_health_table_with_the_engines_rho(health_wave, client, lang, title, rho_word):
    wave, _, _ = health_wave
    viewer = f.UserFactory(username=f"health-viewer-{lang}")
    f.MembershipFactory(user=viewer, organization=wave.organization, role=m.Role.EXECUTIVE)
    client.force_login(viewer)
    page = client.get(f"/reports/waves/{wave.pk}/?lang={lang}")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('<section id="health"'):]
    section = section[:section.index("</section>")]
    assert title in section and rho_word in section
    culture = next(c for c in services.gap_analysis(wave=wave, segments=False)["health"]["comparisons"]
                   if c["measure"] == "culture")
    assert f"{culture['spearman_rho']:+.2f}".replace("-", "−") in section or \
        f"{culture['spearman_rho']:+.2f}" in section


@pytest.mark.parametrize(("lang", "title", "note"), [
    ("en", "Perception and account health", "An association, not a cause"),
    ("ja", "認識とアカウントの健全性", "相関であり、因果ではありません"),
])
def test_the_pdf_has_the_health_table_in_both_languages(health_wave, lang, title, note):
    wave, _, _ = health_wave
    analysis = services.gap_analysis(wave=wave, language=lang)
    text = "\n".join(pdf_pages(render_pdf(build_report_context(analysis, language=lang, wave=wave)).pdf))
    flat = text.replace("\n", "")
    assert title in flat and note.replace(" ", "") in flat.replace(" ", "")
    culture = next(c for c in analysis["health"]["comparisons"] if c["measure"] == "culture")
    shown = f"{abs(culture['spearman_rho']):.2f}"
    assert shown in flat
