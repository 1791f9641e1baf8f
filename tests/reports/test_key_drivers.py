"""Key drivers and the importance–performance grid (issue 17, item 6): the engine, the API, the web mirror, the PDF.

Every number is checked against an independent computation: pingouin's LMG relative importance and statsmodels'
OLS on account tables built by hand from what was submitted (contacts aggregated to their account first,
docs/methods.md §10); the grid's quadrants by hand from the dimension entries.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm

from reports import services
from reports.context import build_report_context
from reports.pdf.render import render_pdf
from surveys import models as m
from surveys import services as survey_services
from tests import factories as f
from tests.gap.conftest import build_instrument
from tests.reports.conftest import pdf_pages

DIM_ITEMS = {"culture": ["c1", "c2", "c3"], "speed": ["s1", "s2"]}
N_ACCOUNTS = 36


def _score(answers: dict, keys: list[str]) -> float | None:
    vals = [(6 - answers[k] if k == "c3" else answers[k]) for k in keys if answers.get(k, "na") != "na"]
    return sum(vals) / len(vals) if len(vals) >= -(-len(keys) // 2) else None


def _make_wave(n_accounts: int = N_ACCOUNTS, churn_every: int = 4, slug: str = "drivers-d1"):
    org = f.OrganizationFactory(name="Driver Corp", slug=slug, display_name_en="Driver Corp",
                                display_name_ja="ドライバー株式会社")
    inst = build_instrument(org)
    m.ItemPair.objects.create(instrument=inst, key="renew", order=10, kind=m.ItemKind.RENEWAL,
                              customer_text_en="Will you renew?", customer_text_ja="更新しますか", allow_na=False)
    wave = survey_services.wave_create(organization=org, instrument=inst, name="D1", slug=slug)
    survey_services.wave_open(wave=wave)
    rng = random.Random(17)
    keys = ["c1", "c2", "c3", "s1", "s2"]
    for _ in range(12):
        inv = survey_services.invitation_create(wave=wave, side="staff", segments={})
        survey_services.response_submit(wave=wave, side="staff", answers={k: rng.randint(3, 5) for k in keys},
                                        language="en", channel="invitation", invitation=inv.invitation,
                                        required=False)
    accounts, submitted = [], []
    for a in range(n_accounts):
        health = rng.randint(5, 98) if a % 6 else None
        account = f.CustomerAccountFactory(organization=org, status="churned" if a % churn_every == 0 else "active",
                                           health_score=health,
                                           health_scored_on=dt.date(2026, 6, 1 + a % 28) if health else None)
        accounts.append(account)
        culture_centre, speed_centre = rng.uniform(1.5, 4.5), rng.uniform(1.5, 4.5)
        for _ in range(1 + a % 3):
            answers = {k: ("na" if rng.random() < 0.08 else
                           max(1, min(5, round(rng.gauss(culture_centre if k[0] == "c" else speed_centre, 0.7)))))
                       for k in keys}
            answers["c3"] = 6 - answers["c3"] if answers["c3"] != "na" else "na"  # reverse keyed
            answers["nps"] = max(0, min(10, round(2 * culture_centre + 0.5 * speed_centre + rng.gauss(0, 1.2))))
            answers["renew"] = max(1, min(5, round(0.3 * culture_centre + 0.8 * speed_centre + rng.gauss(0, 0.6))))
            inv = survey_services.invitation_create(wave=wave, side="customer", customer_account=account,
                                                    segments={})
            survey_services.response_submit(wave=wave, side="customer", answers=answers, language="en",
                                            channel="invitation", invitation=inv.invitation, required=False)
            submitted.append((account.pk, answers))
    return wave, accounts, submitted


@pytest.fixture
def drivers_wave(db):
    return _make_wave()


def _account_table(accounts, submitted) -> pd.DataFrame:
    """One row per account, by hand: the mean over its contacts of each dimension score and outcome answer."""
    per: dict[int, dict[str, list[float]]] = {}
    for pk, answers in submitted:
        row = per.setdefault(pk, {})
        for dim, items in DIM_ITEMS.items():
            score = _score(answers, items)
            if score is not None:
                row.setdefault(dim, []).append(score)
        for key in ("nps", "renew"):
            row.setdefault(key, []).append(answers[key])
    by_pk = {a.pk: a for a in accounts}
    return pd.DataFrame([{**{k: np.mean(v) for k, v in row.items()}, "health": by_pk[pk].health_score,
                          "churn": float(by_pk[pk].status == "churned")} for pk, row in per.items()])


def _reference(table: pd.DataFrame, outcome: str) -> tuple[int, float, dict[str, float]]:
    rows = table.dropna(subset=["culture", "speed", outcome])
    fit = pg.linear_regression(rows[["culture", "speed"]], rows[outcome].astype(float), relimp=True)
    ref = fit.set_index("names")["relimp"]
    r2 = sm.OLS(rows[outcome].astype(float), sm.add_constant(rows[["culture", "speed"]])).fit().rsquared
    return len(rows), r2, {"culture": ref["culture"], "speed": ref["speed"]}


def test_the_engine_weights_are_pingouins_lmg_on_the_hand_built_account_table(drivers_wave):
    wave, accounts, submitted = drivers_wave
    analysis = services.gap_analysis(wave=wave, segments=False)
    drivers = analysis["drivers"]
    assert [p["key"] for p in drivers["predictors"]] == ["culture", "speed"]
    by_outcome = {o["outcome"]: o for o in drivers["outcomes"]}
    assert [o["kind"] for o in drivers["outcomes"]] == ["nps", "renewal", "health", "churn"]
    table = _account_table(accounts, submitted)
    for outcome, column in (("nps", "nps"), ("renew", "renew"), ("health", "health"), ("churn", "churn")):
        got = by_outcome[outcome]
        n, r2, weights = _reference(table, column)
        assert got["n_accounts"] == n, outcome
        assert got["report_status"] == "ok", outcome
        assert got["r2"] == pytest.approx(r2, rel=1e-9), outcome
        for d in got["drivers"]:
            assert d["weight"] == pytest.approx(weights[d["key"]], rel=1e-9), (outcome, d["key"])
            assert d["ci_low"] <= d["weight"] <= d["ci_high"]
    # The answers were drawn so that culture drives NPS and speed drives renewal: the weights find it.
    assert [d["rank"] for d in by_outcome["nps"]["drivers"]] == [1, 2]
    assert [d["rank"] for d in by_outcome["renew"]["drivers"]] == [2, 1]


def test_the_grid_places_each_dimension_by_its_customer_mean_and_its_weight(drivers_wave):
    wave, _, _ = drivers_wave
    analysis = services.gap_analysis(wave=wave, segments=False)
    dims = {d["key"]: d for d in analysis["dimensions"]}
    priorities = []
    for outcome in analysis["drivers"]["outcomes"]:
        grid = outcome["grid"]
        weights = {d["key"]: d["weight"] for d in outcome["drivers"]}
        perf = {k: dims[k]["mean_customer"] for k in weights}
        assert grid["performance_split"] == pytest.approx(np.mean(list(perf.values())))
        assert grid["importance_split"] == pytest.approx(np.mean(list(weights.values())))
        for point in grid["items"]:
            key = point["item"]
            high_imp = weights[key] >= grid["importance_split"]
            high_perf = perf[key] >= grid["performance_split"]
            expected = {(True, False): "concentrate_here", (True, True): "keep_up_the_good_work",
                        (False, False): "low_priority", (False, True): "possible_overkill"}[(high_imp, high_perf)]
            assert point["quadrant"] == expected
            assert (point["performance"], point["importance"]) == (perf[key], weights[key])
            assert (point["gap"], point["class"]) == (dims[key]["gap"], dims[key]["classification"]["class"])
        important = [p["item"] for p in grid["items"] if weights[p["item"]] >= grid["importance_split"]]
        classes = {k: dims[k]["classification"]["class"] for k in weights}
        assert grid["priority"] == [k for k in important if classes[k] == "blind_spot"]
        assert grid["messaging"] == [k for k in important if classes[k] == "hidden_strength"]
        priorities.append(grid["priority"])
    # Staff answered 3-5, customers around 3: both dimensions are blind spots, and each outcome's most important
    # one heads its priority list (NPS: culture, renewal: speed).
    assert priorities[0][0] == "culture" and priorities[1][0] == "speed"


def test_fewer_accounts_than_the_customer_k_show_only_the_status(db):
    """The attacker's small wave: four accounts. No weight, no R², no n: nothing describes those accounts."""
    wave, _, _ = _make_wave(n_accounts=4, churn_every=2, slug="drivers-small")
    drivers = services.gap_analysis(wave=wave, segments=False)["drivers"]
    for outcome in drivers["outcomes"]:
        assert outcome["report_status"] == "suppressed_min_n", outcome["outcome"]
        assert outcome["n_accounts"] is None and outcome["r2"] is None and outcome["grid"] is None
        assert all(v is None for d in outcome["drivers"] for k, v in d.items() if k != "key")


def test_churn_weights_need_k_churned_accounts(db):
    """36 accounts, 4 churned (fewer than k = 5): churn's weights would describe four accounts; suppressed."""
    wave, _, _ = _make_wave(churn_every=9, slug="drivers-churn")
    churn = next(o for o in services.gap_analysis(wave=wave, segments=False)["drivers"]["outcomes"]
                 if o["outcome"] == "churn")
    assert churn["report_status"] == "suppressed_min_n" and churn["r2"] is None and churn["n_accounts"] is None


def test_a_wave_without_accounts_has_no_drivers_section(db):
    org = f.OrganizationFactory(slug="no-accounts")
    wave = survey_services.wave_create(organization=org, instrument=build_instrument(org), name="N", slug="n1")
    survey_services.wave_open(wave=wave)
    assert services.gap_analysis(wave=wave, segments=False)["drivers"] is None


def _member(wave, username: str, role=m.Role.EXECUTIVE):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, organization=wave.organization, role=role)
    return user


def test_the_api_returns_the_engines_drivers_section(drivers_wave, client):
    wave, _, _ = drivers_wave
    client.force_login(_member(wave, "drivers-reader"))
    got = client.get(f"/api/v1/waves/{wave.pk}/gap/?segments=false&lang=en").json()["drivers"]
    assert got == services.gap_analysis(wave=wave, segments=False, language="en")["drivers"]
    assert {"quadrant", "performance", "importance", "gap", "class"} <= set(got["outcomes"][0]["grid"]["items"][0])


def test_the_schema_documents_every_drivers_field(client):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert "drivers" in schemas["GapAnalysis"]["properties"]
    assert {"predictors", "bootstrap_reps", "bootstrap_seed", "min_extra_accounts", "outcomes"} <= set(
        schemas["GapDrivers"]["properties"])
    assert {"outcome", "kind", "label", "n_accounts", "r2", "r2_adjusted", "r2_ci_low", "r2_ci_high", "n_bootstrap",
            "drivers", "grid", "report_status", "undefined"} <= set(schemas["GapDriverOutcome"]["properties"])
    assert {"key", "weight", "share", "ci_low", "ci_high", "correlation", "rank"} <= set(
        schemas["GapDriverWeight"]["properties"])
    assert {"item", "quadrant", "performance", "importance", "gap", "class"} <= set(
        schemas["GapGridPoint"]["properties"])
    assert {"performance_split", "importance_split", "items", "priority", "messaging"} <= set(
        schemas["GapGrid"]["properties"])


@pytest.mark.parametrize(("lang", "title", "quadrant"), [("en", "Which gaps matter: key drivers", "Concentrate here"),
                                                         ("ja", "どのギャップが重要か：キードライバー", "重点改善")])
def test_the_web_mirror_shows_the_engines_weights_and_a_grid_chart(drivers_wave, client, lang, title, quadrant):
    wave, _, _ = drivers_wave
    client.force_login(_member(wave, f"drivers-viewer-{lang}"))
    page = client.get(f"/reports/waves/{wave.pk}/?lang={lang}")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('<section id="drivers"'):]
    section = section[:section.index("</section>")]
    assert title in section and 'href="#drivers"' in html
    assert section.count("<svg") == 4  # one grid per outcome (NPS, renewal, health, churn)
    assert quadrant in section
    nps = services.gap_analysis(wave=wave, segments=False)["drivers"]["outcomes"][0]
    for d in nps["drivers"]:
        assert f"{d['weight']:.3f}" in section
    assert f"{nps['r2']:.2f}" in section


def test_the_mirror_of_a_small_wave_shows_no_driver_number(db, client):
    wave, _, _ = _make_wave(n_accounts=4, churn_every=2, slug="drivers-small-web")
    client.force_login(_member(wave, "drivers-small-viewer"))
    html = client.get(f"/reports/waves/{wave.pk}/?lang=en").content.decode()
    section = html[html.index('<section id="drivers"'):]
    section = section[:section.index("</section>")]
    assert "Fewer than 5 accounts" in section and "<svg" not in section and "R² =" not in section


@pytest.mark.parametrize(("lang", "title", "note"), [
    ("en", "Which gaps matter: key drivers", "Associations across accounts, not causes"),
    ("ja", "どのギャップが重要か：キードライバー", "アカウント間の相関であり、因果ではありません"),
])
def test_the_pdf_has_the_drivers_section_with_the_engines_weights(drivers_wave, lang, title, note):
    wave, _, _ = drivers_wave
    analysis = services.gap_analysis(wave=wave, language=lang)
    text = "\n".join(pdf_pages(render_pdf(build_report_context(analysis, language=lang, wave=wave)).pdf))
    flat = text.replace("\n", "").replace(" ", "")
    assert title.replace(" ", "") in flat and note.replace(" ", "") in flat
    renewal = next(o for o in analysis["drivers"]["outcomes"] if o["kind"] == "renewal")
    for d in renewal["drivers"]:
        assert f"{d['weight']:.3f}" in flat
