"""The executives' web mirror (/reports/waves/<id>/) and the first page (/): access, the API's numbers,
filters, suppression, the trend, the PDF link, languages and the audit trail."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from reports.formatting import fmt_pct, fmt_signed
from reports.models import ReportJob
from surveys.models import AuditEvent, Wave


@pytest.fixture
def demo(demo_wave_id, db):
    wave = Wave.objects.select_related("previous_wave", "organization").get(pk=demo_wave_id)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    return wave, users


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _api(user, wave: Wave, **params) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"lang": "en", **params})
    assert response.status_code == 200, response.content
    return response.json()


def _text(response) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------- access


def test_an_anonymous_visitor_is_sent_to_the_login_page(demo):
    wave, _ = demo
    response = Client().get(f"/reports/waves/{wave.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/reports/waves/")


@pytest.mark.parametrize("username", ["demo-admin", "demo-analyst", "demo-exec"])
def test_admins_analysts_and_executives_of_the_organization_open_the_mirror(demo, username):
    wave, users = demo
    response = _client(users[username]).get(f"/reports/waves/{wave.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_member_of_another_organization_gets_a_plain_404(demo, outsider):
    wave, _ = demo
    response = _client(outsider).get(f"/reports/waves/{wave.pk}/")
    assert response.status_code == 404
    assert wave.name not in _text(response) and wave.organization.name not in _text(response)
    assert _client(outsider).get("/reports/waves/999999/").status_code == 404


# --------------------------------------------------------------------------- the numbers are the API's


def test_the_page_shows_the_gap_apis_numbers_for_the_same_view(demo):
    wave, users = demo
    params = {"customer": "tier:Enterprise", "compare_wave": str(wave.previous_wave_id)}
    api = _api(users["demo-analyst"], wave, **params)
    response = _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/", params)
    assert response.status_code == 200
    ctx, html = response.context, _text(response)

    assert ctx["counts"]["staff"]["n"] == api["response_counts"]["staff"]
    assert ctx["counts"]["customer"]["n"] == api["response_counts"]["customer"]
    assert f'id="n-staff">{api["response_counts"]["staff"]}<' in html
    assert f'id="n-customer">{api["response_counts"]["customer"]}<' in html
    tb = api["headline"]["topbox"]
    assert ctx["headline"]["p_staff"] == pytest.approx(tb["p_staff"], abs=1e-12)
    assert ctx["headline"]["p_customer"] == pytest.approx(tb["p_customer"], abs=1e-12)
    assert f'id="headline-staff">{fmt_pct(tb["p_staff"])}<' in html
    assert f'id="headline-customer">{fmt_pct(tb["p_customer"])}<' in html
    assert f"{fmt_pct(tb['p_staff'])} of your staff believe you deliver a superior experience." in html

    api_dim = next(d for d in api["dimensions"] if d["report_status"] in ("ok", "ok_low_base"))
    page_dim = next(d for d in ctx["dimensions"] if d["key"] == api_dim["key"])
    assert page_dim["gap"] == pytest.approx(api_dim["gap"], abs=1e-12)
    row = re.search(rf'id="dim-{api_dim["key"]}">.*?</tr>', html, re.S).group(0)
    assert f"<strong>{fmt_signed(api_dim['gap'])}</strong>" in row
    assert page_dim["alpha_customer"]["value"] == api_dim["alpha"]["customer"]["listwise"] or \
        page_dim["alpha_customer"]["value"] is None
    # The comparison wave's change table is the API's did, and says which way it reads (as the PDF does).
    assert ctx["did"]["compare_wave"]["id"] == wave.previous_wave_id
    previous = Wave.objects.get(pk=wave.previous_wave_id).name
    assert f"Change since “{previous}”" in html and f"the gap in “{wave.name}” minus the gap in “{previous}”" in html
    assert "A negative change means the gap narrowed" not in html  # false for a negative gap
    assert len(ctx["did"]["dimensions"]) == len(api["did"]["dimensions"])


def test_filters_change_the_numbers(demo):
    wave, users = demo
    client = _client(users["demo-exec"])
    everyone = client.get(f"/reports/waves/{wave.pk}/").context
    enterprise = client.get(f"/reports/waves/{wave.pk}/", {"customer:tier": "Enterprise"}).context
    assert enterprise["counts"]["customer"]["n"] < everyone["counts"]["customer"]["n"]
    assert enterprise["headline"]["p_customer"] != everyone["headline"]["p_customer"]
    weighted = client.get(f"/reports/waves/{wave.pk}/", {"weighted": "1"}).context
    assert weighted["filters"]["weighted"] is True
    # The form spelling (customer:tier=…) and the API spelling (customer=tier:…) are the same view.
    api_spelling = client.get(f"/reports/waves/{wave.pk}/", {"customer": "tier:Enterprise"}).context
    assert api_spelling["counts"] == enterprise["counts"]


def test_a_suppressed_group_shows_its_status_and_no_number(demo):
    wave, users = demo
    api = _api(users["demo-analyst"], wave, staff="department:Sales")
    assert api["response_counts"]["staff"] is None  # the demo's departments are all below k
    response = _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/", {"staff:department": "Sales"})
    assert response.status_code == 200
    ctx, html = response.context, _text(response)
    assert ctx["counts"]["staff"]["n"] is None
    assert re.search(r'id="n-staff">Fewer than \d+<', html)
    assert not ctx["headline"]["available"]
    assert 'id="headline-staff"' not in html and 'id="headline-unavailable"' in html
    for dim in ctx["dimensions"]:
        assert dim["mean_staff"] is None and dim["gap"] is None
    # Heatmap rows of suppressed staff groups carry no number.
    for field in ctx["segments"]["staff"]:
        for row in field["rows"]:
            if row["suppressed"]:
                assert row["n"] is None and all(c["gap"] is None and c["gap_display"] == "" for c in row["cells"])


def test_the_trend_lists_every_wave_of_the_questionnaire(demo):
    wave, users = demo
    response = _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/")
    trend = response.context["trend"]
    expected = list(Wave.objects.filter(organization=wave.organization, instrument__key=wave.instrument.key)
                    .values_list("pk", flat=True))
    assert sorted(c["wave"].pk for c in trend["columns"]) == sorted(expected) and len(expected) >= 2
    assert [c["current"] for c in trend["columns"]].count(True) == 1
    html = _text(response)
    table = html[html.index('id="trend-table"'):]
    for w in Wave.objects.filter(pk__in=expected):
        assert w.name in table
    assert len(trend["dimensions"]) == len(response.context["dimensions"])
    for d in trend["dimensions"]:
        assert len(d["cells"]) == len(expected)
        assert 'role="img"' in d["svg"] and "<title>" in d["svg"]
    assert len(trend["items"]) >= len(response.context["items"])


def test_a_dimension_drills_down_to_its_questions(demo):
    wave, users = demo
    client = _client(users["demo-exec"])
    page = client.get(f"/reports/waves/{wave.pk}/").context
    dim = page["dimensions"][0]
    assert dim["link"] == f"?dimension={dim['key']}"
    drilled = client.get(f"/reports/waves/{wave.pk}/", {"dimension": dim["key"]}).context
    assert drilled["drill"]["key"] == dim["key"]
    assert {r["dimension"] for r in drilled["drill_items"]} == {dim["key"]}
    assert len(drilled["drill_items"]) == len(dim["item_keys"])


@pytest.mark.parametrize(("query", "field"), [
    ({"staff": "nope:1"}, "staff"),
    ({"customer": "tier"}, "customer"),
    ({"customer:tier": "Platinum"}, "customer"),
    ({"compare_wave": "999999"}, "compare_wave"),
    ({"compare_wave": "x"}, "compare_wave"),
    ({"weighted": "maybe"}, "weighted"),
])
def test_bad_options_answer_400_naming_the_field(demo, query, field):
    wave, users = demo
    response = _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/", query)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>:" in _text(response)
    assert 'id="n-staff"' not in _text(response)


def test_another_organizations_wave_is_no_comparison_wave(demo, other_org):
    wave, users = demo
    from tests import factories as f

    foreign = f.WaveFactory(organization=other_org)
    response = _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/", {"compare_wave": foreign.pk})
    assert response.status_code == 400
    assert foreign.name not in _text(response)


# --------------------------------------------------------------------------- PDF, language, audit


def test_the_pdf_button_requests_the_same_comparison_and_weighting(demo, no_dispatch):
    wave, users = demo
    client = _client(users["demo-exec"])
    html = _text(client.get(f"/reports/waves/{wave.pk}/", {"compare_wave": "", "weighted": "1"}))
    assert f'action="/reports/waves/{wave.pk}/en/"' in html
    response = client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": "", "weighted": "1"})
    assert response.status_code == 302
    job = ReportJob.objects.filter(wave=wave).latest("created_at")
    assert job.options["weighted"] is True and job.options["compare_wave"] is None
    client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": str(wave.previous_wave_id), "weighted": "0"})
    job = ReportJob.objects.filter(wave=wave).latest("created_at")
    assert job.options["weighted"] is False and job.options["compare_wave"] == wave.previous_wave_id
    bad = client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": str(wave.pk)})
    assert bad.status_code == 400 and "compare_wave" in _text(bad)


def test_the_pdf_button_carries_the_segment_filters_too(demo, no_dispatch):
    """'Download as PDF' is the same view: a filtered page asks for a filtered report."""
    wave, users = demo
    client = _client(users["demo-exec"])
    html = _text(client.get(f"/reports/waves/{wave.pk}/", {"customer:tier": "Enterprise", "staff:department": "Sales"}))
    assert '<input type="hidden" name="customer" value="tier:Enterprise">' in html
    assert '<input type="hidden" name="staff" value="department:Sales">' in html
    response = client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": "", "weighted": "0",
                                                            "customer": "tier:Enterprise", "staff": "department:Sales"})
    assert response.status_code == 302
    job = ReportJob.objects.filter(wave=wave).latest("created_at")
    assert job.options["customer"] == {"tier": "Enterprise"} and job.options["staff"] == {"department": "Sales"}
    unfiltered = client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": "", "weighted": "0"})
    assert unfiltered.status_code == 302
    assert "customer" not in ReportJob.objects.filter(wave=wave).latest("created_at").options
    bad = client.post(f"/reports/waves/{wave.pk}/en/", {"compare_wave": "", "customer": "tier:Platinum"})
    assert bad.status_code == 400 and "customer" in _text(bad) and "Platinum" in _text(bad)


def test_the_page_speaks_japanese_when_asked_and_remembers_it(demo):
    wave, users = demo
    client = _client(users["demo-exec"])
    response = client.get(f"/reports/waves/{wave.pk}/", {"lang": "ja"})
    assert '<html lang="ja">' in _text(response)
    assert response.context["language"] == "ja"
    again = client.get(f"/reports/waves/{wave.pk}/")  # the language cookie
    assert again.context["language"] == "ja"
    assert client.get(f"/reports/waves/{wave.pk}/", {"lang": "en"}).context["language"] == "en"


def test_viewing_the_mirror_is_audited(demo):
    wave, users = demo
    before = AuditEvent.objects.filter(action=AuditEvent.Action.GAP_VIEW, wave=wave).count()
    _client(users["demo-exec"]).get(f"/reports/waves/{wave.pk}/", {"customer:tier": "SMB"})
    event = AuditEvent.objects.filter(action=AuditEvent.Action.GAP_VIEW, wave=wave).latest("created_at")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GAP_VIEW, wave=wave).count() == before + 1
    assert event.user == users["demo-exec"]
    assert event.details["via"] == "page" and event.details["customer"] == {"tier": "SMB"}
    # The trend reads the other waves too: each is audited as such.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GAP_VIEW, wave=wave.previous_wave,
                                     details__via="page-trend").exists()


# --------------------------------------------------------------------------- the first page


def test_the_first_page_says_what_kagami_is_and_offers_a_login(db):
    response = Client().get("/")
    assert response.status_code == 200
    html = _text(response)
    assert "80%" in html and "8%" in html
    assert 'href="/accounts/login/' in html


def test_the_first_page_lists_a_members_waves_linking_to_the_mirror(demo, outsider):
    wave, users = demo
    html = _text(_client(users["demo-exec"]).get("/"))
    for w in Wave.objects.filter(organization=wave.organization):
        assert f'href="/reports/waves/{w.pk}/"' in html and w.name in html
    other = _text(_client(outsider).get("/"))
    assert f'/reports/waves/{wave.pk}/' not in other and wave.organization.name not in other


def test_the_report_list_links_every_wave_to_its_mirror(demo):
    wave, users = demo
    html = _text(_client(users["demo-exec"]).get("/reports/"))
    for w in Wave.objects.filter(organization=wave.organization):
        assert f'href="/reports/waves/{w.pk}/"' in html


def test_the_login_page_speaks_japanese_when_asked(db):
    response = Client().get("/accounts/login/", {"lang": "ja"})
    assert response.status_code == 200
    assert '<html lang="ja">' in _text(response) and "ログイン" in _text(response)
    assert response.cookies["django_language"].value == "ja"
