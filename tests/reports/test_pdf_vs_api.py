"""Every section of the PDF, read back as text, against the gap API's JSON for the same wave (issue 15, item 3).

Two waves: the demo wave (compared with its previous wave) and an edge wave — a reverse-keyed item, segments
nobody falls in, a single wave so no comparison — each in English and Japanese.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from reports.formatting import fmt_ci, fmt_num, fmt_pct, fmt_pts, fmt_signed
from reports.jobs import build_report
from surveys import models as m
from surveys import releases, services
from tests import factories as f
from tests.gap.conftest import build_instrument, fill_wave
from tests.reports.conftest import pdf_pages

pytestmark = pytest.mark.django_db

WORDS = {
    "en": {"staff": "Staff", "customers": "Customers", "change": "Change since", "marker": "(reversed)",
           "suppressed": "suppressed", "tenure": "Tenure"},
    "ja": {"staff": "社員", "customers": "顧客", "change": "からの変化", "marker": "（逆転）",
           "suppressed": "非表示", "tenure": "勤続年数"},
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def edge_wave_id(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        org = m.Organization.objects.create(name="Edge Holdings KK", slug="edge-pdf", display_name_en="Edge Corp",
                                            display_name_ja="エッジ株式会社")
        wave = services.wave_create(organization=org, instrument=build_instrument(org), name="Only wave",
                                    slug="edge-pdf-1")
        services.wave_open(wave=wave)
        fill_wave(wave, seed=11, n_staff=40, n_customer=45)  # nobody gives a tenure or a touch model: empty segments
        releases.publish_due(wave)
        user = f.UserFactory(username="edge-pdf-analyst")
        f.MembershipFactory(user=user, organization=org, role=m.Role.ANALYST)
    yield wave.pk
    with django_db_blocker.unblock():
        m.SurveyResponse.objects.filter(wave__organization_id=org.pk).delete()
        m.Wave.objects.filter(organization_id=org.pk).delete()
        m.Organization.objects.filter(pk=org.pk).delete()
        get_user_model().objects.filter(pk=user.pk).delete()


def _api(wave: m.Wave, username: str, language: str, compare: m.Wave | None) -> dict:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    params = {"lang": language, **({"compare_wave": compare.pk} if compare else {})}
    response = client.get(f"/api/v1/waves/{wave.pk}/gap/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _check(pdf: bytes, api: dict, language: str) -> str:
    words = WORDS[language]
    pages = pdf_pages(pdf)
    text = "\n".join(pages)
    flat = squash(text)
    lines = text.splitlines()

    # The cover: one organisation name, the display name in the report language.
    org = api["wave"]["organization"]
    assert org["company_name"] in pages[0]
    if org["name"] != org["company_name"]:
        assert org["name"] not in text

    # Response counts and rates, per side: responses, invited, answered invitations (a footnoted dash for staff).
    rates, counts = api["response_rates"], api["response_counts"]
    staff_line = (f"{words['staff']} {counts['staff']} {rates['staff']['invited']} —* "
                  f"{fmt_pct(rates['staff']['rate'])}")
    cust_line = (f"{words['customers']} {counts['customer']} {rates['customer']['invited']} "
                 f"{rates['customer']['answered_invitations']} {fmt_pct(rates['customer']['rate'])}")
    assert staff_line in lines, staff_line
    assert cust_line in lines, cust_line

    # The headline: each side's top box and the gap in points.
    head = api["headline"]
    if head and head["report_status"] in ("ok", "ok_low_base"):
        tb = head["topbox"]
        assert squash(f"{fmt_pct(tb['p_staff'])}") in squash(pages[1])
        assert squash(f"{fmt_pts(tb['diff'])}") in squash(pages[1])

    # Every reportable dimension: staff and customer means, gap and interval, in one row.
    for dim in api["dimensions"]:
        if dim["report_status"] in ("ok", "ok_low_base"):
            row = (f"{fmt_num(dim['mean_staff'])}{fmt_num(dim['mean_customer'])}{fmt_signed(dim['gap'])}"
                   f"{fmt_ci(dim['welch']['ci_low'], dim['welch']['ci_high'])}")
            assert squash(row) in flat, (dim["key"], row)
            # Each side's alpha with its Feldt interval under it (docs/methods.md §3.3), as the API gives them.
            for side in ("staff", "customer"):
                alpha = dim["alpha"][side]
                if alpha["listwise"] is not None:
                    cell = (re.escape(fmt_num(alpha["listwise"])) + r"[*!]*"
                            + re.escape(f"{fmt_num(alpha['ci_low'])}–{fmt_num(alpha['ci_high'])}"))
                    assert re.search(cell, flat), (dim["key"], side, cell)

    # Every reportable item: n per side, means and gap; a reverse-keyed one carries its marker.
    for item in api["items"]:
        if item["report_status"] in ("ok", "ok_low_base"):
            row = (f"{item['n_staff']}{item['n_customer']}{fmt_num(item['mean_staff'])}"
                   f"{fmt_num(item['mean_customer'])}{fmt_signed(item['gap'])}")
            assert row in flat, (item["key"], row)
    if any(i["reverse_keyed"] for i in api["items"]):
        assert text.count(words["marker"]) >= 3, language

    # The comparison, when there is one: the earlier wave named, each change with both gaps.
    if api["did"]:
        previous = api["did"]["compare_wave"]["name"]
        assert (f"Change since “{previous}”" if language == "en" else f"「{previous}」からの変化") in text
        for entry in api["did"]["dimensions"]:
            if entry["report_status"] in ("ok", "ok_low_base"):
                assert (f"{fmt_signed(entry['gap_wave1'])}{fmt_signed(entry['gap_wave2'])}"
                        f"{fmt_signed(entry['did'])}") in flat, entry["key"]
    else:
        assert words["change"] not in text
    return text


def test_the_demo_report_says_what_the_api_says_in_both_languages(demo_wave_id):
    wave = m.Wave.objects.select_related("previous_wave", "organization").get(pk=demo_wave_id)
    for language in ("en", "ja"):
        api = _api(wave, "demo-analyst", language, wave.previous_wave)
        rendered = build_report(wave=wave, language=language, options={"compare_wave": wave.previous_wave_id},
                                progress=lambda pct, step: None)
        text = _check(rendered.pdf, api, language)
        assert api["did"] and any(i["reverse_keyed"] for i in api["items"])
        assert WORDS[language]["marker"] in text


def test_an_edge_wave_report_says_what_the_api_says_in_both_languages(edge_wave_id):
    wave = m.Wave.objects.select_related("organization").get(pk=edge_wave_id)
    for language in ("en", "ja"):
        api = _api(wave, "edge-pdf-analyst", language, None)
        assert api["did"] is None
        rendered = build_report(wave=wave, language=language, options={}, progress=lambda pct, step: None)
        text = _check(rendered.pdf, api, language)
        # A segment nobody falls in shows no number at all.
        tenure = next(s for s in api["segments"]["staff"] if s["field"] == "tenure")
        assert all(g["n"] is None for g in tenure["groups"])
        for group in tenure["groups"]:
            rows = [line for line in text.splitlines() if line.startswith(group["value"] + " ")]
            assert rows, group["value"]
            for line in rows:
                rest = line[len(group["value"]):]
                assert WORDS[language]["suppressed"] in rest and not re.search(r"\d", rest), line


def test_a_filtered_report_shows_the_filtered_view_and_says_which(edge_wave_id):
    """The report of a segment filter (the web mirror's 'same view as PDF', or the API's staff=/customer=)
    carries the API's numbers for that filter, and its cover names the groups shown."""
    from reports.jobs import report_options

    wave = m.Wave.objects.select_related("organization").get(pk=edge_wave_id)
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="edge-pdf-analyst"))
    for language, label in (("en", "Groups shown"), ("ja", "対象のグループ")):
        api = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"lang": language, "customer": "tier:Gold"}).json()
        everyone = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"lang": language}).json()
        assert api["response_counts"]["customer"] < everyone["response_counts"]["customer"]
        options = report_options(wave=wave, language=language, customer_filter={"tier": "Gold"})
        rendered = build_report(wave=wave, language=language, options=options, progress=lambda pct, step: None)
        text = _check(rendered.pdf, api, language)
        assert label in text and "tier = Gold" in text
