"""?invariance=true on the gap API (docs/methods.md §3.5): what the engine computes from the wave's count tables is
the library's verdict on the raw published rows, it is opt-in, documented, and it tells nothing about a person.

The wave: 160 staff and 160 customers answering three dimensions generated from a one-factor model —
``culture`` (4 items, one reverse-keyed, invariant by design), ``service`` (4 items, one item's intercept
one point higher for customers: broken by design) and ``speed`` (2 items: not testable).
"""

from __future__ import annotations

import numpy as np
import pytest

from reports import services
from reports.stats import invariance as inv
from surveys import models as m
from surveys import releases
from surveys import services as survey_services
from surveys.bulk import BulkResponse, responses_bulk_load
from tests import factories as f

N_SIDE = 160
DIMS = {"culture": 4, "service": 4, "speed": 2}


def _answers(rng, n, *, shift_service_item=0.0, kappa=0.0):
    """Five-point answers of n respondents, one latent factor per dimension; columns in DIMS order."""
    cols = []
    for dim, p in DIMS.items():
        eta = rng.normal(kappa, 1.0, n)
        lam = np.array([0.9, 0.8, 0.7, 0.8][:p])
        nu = np.full(p, 3.0)
        if dim == "service":
            nu[2] += shift_service_item
        x = nu + np.outer(eta, lam) + rng.normal(0, 0.6, (n, p))
        cols.append(np.clip(np.rint(x), 1, 5).astype(int))
    return np.hstack(cols)


@pytest.fixture(scope="module")
def inv_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        org = m.Organization.objects.create(name="Inv Corp", slug="inv-corp", display_name_en="Inv Corp",
                                            display_name_ja="不変株式会社")
        inst = f.InstrumentFactory(organization=org, key="inv-test")
        items = []
        order = 0
        for d, (key, p) in enumerate(DIMS.items()):
            dim = f.DimensionFactory(instrument=inst, key=key, order=d + 1, name_en=key.title(), name_ja=key)
            for j in range(p):
                order += 1
                items.append(f.ItemPairFactory(instrument=inst, dimension=dim, key=f"{key}{j}", order=order,
                                               is_headline=order == 1,
                                               reverse_keyed=(key == "culture" and j == 3)))
        wave = survey_services.wave_create(organization=org, instrument=inst, name="Inv", slug="inv-wave")
        survey_services.wave_open(wave=wave)
        rng = np.random.default_rng(2026)
        staff = _answers(rng, N_SIDE, kappa=0.5)
        customer = _answers(rng, N_SIDE, shift_service_item=1.0)
        rows = []
        for side, table in (("staff", staff), ("customer", customer)):
            for r, row in enumerate(table):
                stored = [6 - v if items[c].reverse_keyed else v for c, v in enumerate(row)]
                answers = [(items[c].pk, int(v)) for c, v in enumerate(stored)]
                if r == 0:  # one N/A: this respondent is not a complete case of culture
                    answers[1] = (items[1].pk, None)
                # Staff departments count as verified ("demo" channel: from the roster), so a department is a
                # released view (disclosure P5).
                rows.append(BulkResponse(wave_id=wave.pk, side=side, answers=answers, channel="demo",
                                         segments={"department": "Sales" if r % 2 else "Support"}
                                         if side == "staff" else {}))
        responses_bulk_load(rows)
        releases.publish_due(wave)
    yield org.pk, wave.pk, staff, customer
    with django_db_blocker.unblock():
        m.SurveyResponse.objects.filter(wave__organization_id=org.pk).delete()
        m.Wave.objects.filter(organization_id=org.pk).delete()
        m.Organization.objects.filter(pk=org.pk).delete()


@pytest.fixture
def org(inv_data, db):
    return m.Organization.objects.get(pk=inv_data[0])


@pytest.fixture
def wave(inv_data, db):
    return m.Wave.objects.get(pk=inv_data[1])


@pytest.fixture
def url(wave):
    return f"/api/v1/waves/{wave.pk}/gap/"


def _columns(dim: str) -> slice:
    start = 0
    for key, p in DIMS.items():
        if key == dim:
            return slice(start, start + p)
        start += p
    raise KeyError(dim)


def _reference(inv_data, dim: str) -> dict:
    """The library on the raw rows (recoded values, complete cases: the first respondent lacks culture1)."""
    _, _, staff, customer = inv_data
    groups = []
    for table in (staff, customer):
        x = table[:, _columns(dim)].astype(float)
        if dim == "culture":
            x[0, 1] = np.nan
        groups.append(inv.moments_from_rows(x))
    return inv.measurement_invariance(*groups, n_items=DIMS[dim])


def test_invariance_is_opt_in(analyst_client, url):
    plain = analyst_client.get(url, {"segments": "false"}).json()
    assert "invariance" not in plain["filters"] and all("invariance" not in d for d in plain["dimensions"])


def test_the_api_gives_the_librarys_verdict_on_the_raw_rows(analyst_client, url, inv_data):
    body = analyst_client.get(url, {"segments": "false", "invariance": "true"}).json()
    assert body["filters"]["invariance"] is True
    got = {d["key"]: d["invariance"] for d in body["dimensions"]}
    for dim in DIMS:
        ref = _reference(inv_data, dim)
        assert got[dim]["status"] == ref["status"] and got[dim]["level"] == ref["level"]
        assert got[dim]["n_complete"] == ref["n_complete"]
        for ours, theirs in zip(got[dim]["steps"], ref["steps"], strict=True):
            for key in ("chi2", "cfi", "srmr", "rmsea"):
                assert ours[key] == pytest.approx(theirs[key], abs=1e-5)
            assert ours["df"] == theirs["df"]
    assert got["culture"]["n_complete"] == {"staff": N_SIDE - 1, "customer": N_SIDE - 1}
    # by design: culture is invariant, service has one intercept moved on the customer side, speed has 2 items
    assert got["culture"]["level"] == "scalar" and got["culture"]["mean_gap_interpretable"] is True
    assert got["service"]["status"] == "tested" and got["service"]["level"] in ("configural", "metric")
    assert got["service"]["mean_gap_interpretable"] is False
    assert got["speed"]["status"] == "not_testable" and got["speed"]["steps"] == []


def test_the_engine_and_the_api_agree(analyst_client, url, wave):
    body = analyst_client.get(url, {"segments": "false", "invariance": "1"}).json()
    expected = services.gap_analysis(wave=wave, segments=False, invariance=True)
    assert [d["invariance"]["level"] for d in body["dimensions"]] == \
        [d["invariance"]["level"] for d in expected["dimensions"]]


def test_a_bad_invariance_value_is_a_400_naming_it(analyst_client, url):
    response = analyst_client.get(url, {"invariance": "perhaps"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and "invariance" in body


def test_next_to_a_hidden_staff_group_nothing_of_the_verdict_is_shown(analyst_client, url):
    """A filter that is not released shows no fit index, no n and no level (as alpha)."""
    body = analyst_client.get(url, {"segments": "false", "invariance": "true", "staff": "department:Legal"}).json()
    for dim in body["dimensions"]:
        assert dim["report_status"].startswith("suppressed"), dim["report_status"]
        block = dim["invariance"]
        assert block["status"] == "not_shown" and block["steps"] == [] and block["level"] is None
        assert block["n_complete"] == {"staff": None, "customer": None}
        assert block["mean_gap_interpretable"] is False


def test_one_new_staff_response_changes_nothing_of_the_verdict(analyst_client, url, wave):
    """P4: the verdict is computed on published responses only; fewer than k new ones are not published."""
    before = analyst_client.get(url, {"segments": "false", "invariance": "true"}).json()
    item_ids = list(m.ItemPair.objects.filter(instrument=wave.instrument, kind=m.ItemKind.LIKERT)
                    .order_by("order").values_list("pk", flat=True))
    responses_bulk_load([BulkResponse(wave_id=wave.pk, side="staff", answers=[(i, 5) for i in item_ids],
                                      segments={"department": "Sales"})])
    after = analyst_client.get(url, {"segments": "false", "invariance": "true"}).json()
    assert [d["invariance"] for d in after["dimensions"]] == [d["invariance"] for d in before["dimensions"]]


# --------------------------------------------------------------------------- the mirror page and the PDF


def _row(html: str, key: str) -> str:
    start = html.index(f'id="dim-{key}"')
    return html[start:html.index("</tr>", start)]


@pytest.mark.parametrize(("lang", "badge"), [("en", "Gap not comparable"), ("ja", "ギャップ比較不可")])
def test_the_mirror_flags_the_dimension_whose_gap_is_not_comparable(analyst, wave, lang, badge):
    from django.test import Client

    client = Client()
    client.force_login(analyst)
    response = client.get(f"/reports/waves/{wave.pk}/", {"lang": lang})
    assert response.status_code == 200
    html = response.content.decode()
    assert badge in _row(html, "service")
    assert badge not in _row(html, "culture") and badge not in _row(html, "speed")
    note = html[html.index('id="invariance-note"'):]
    note = note[:note.index("</div>")]
    assert "Speed" in note or "speed" in note  # each dimension's verdict or why there is none


@pytest.mark.parametrize(("lang", "badge", "untestable"),
                         [("en", "Gap not comparable", "fewer than 3 questions"),
                          ("ja", "ギャップ比較不可", "設問が3問未満")])
def test_the_pdf_dimension_table_flags_it_too(wave, lang, badge, untestable):
    import io

    from pypdf import PdfReader

    from reports.jobs import build_report

    rendered = build_report(wave=wave, language=lang, options={}, progress=lambda *a: None)
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(rendered.pdf)).pages)
    flat = "".join(text.split())
    assert "".join(badge.split()) in flat
    assert "".join(untestable.split()) in flat


def test_the_command_prints_each_dimensions_verdict_when_asked(wave, inv_data):
    import io

    from django.core.management import call_command

    plain = io.StringIO()
    call_command("gap", "--wave", str(wave.pk), stdout=plain)
    assert "Measurement invariance" not in plain.getvalue()
    out = io.StringIO()
    call_command("gap", "--wave", str(wave.pk), "--invariance", stdout=out)
    section = out.getvalue().split("Measurement invariance")[1]
    lines = {line.split()[1]: line for line in section.splitlines() if line.startswith("dimension ")}
    ref = _reference(inv_data, "service")
    assert lines["culture"].split()[2:4] == ["scalar", "yes"]
    assert lines["service"].split()[2:4] == [ref["level"], "no"]
    assert f"{ref['steps'][2]['cfi']:.3f}" in lines["service"]
    assert lines["speed"].split()[2:4] == ["not_testable", "no"]


def test_the_verdict_is_a_whole_side_figure_the_same_in_every_released_view(analyst_client, url):
    """Attacker: compare the verdict across filters to isolate a group. It is not computed per filter, so every
    released view shows the same block, and there is nothing to take a difference of."""
    whole = analyst_client.get(url, {"segments": "false", "invariance": "true"}).json()
    sales = analyst_client.get(url, {"segments": "false", "invariance": "true", "staff": "department:Sales"}).json()
    assert all(d["report_status"] in ("ok", "ok_low_base") for d in sales["dimensions"])
    assert [d["invariance"] for d in sales["dimensions"]] == [d["invariance"] for d in whole["dimensions"]]
