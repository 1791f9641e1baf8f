"""The mirror comparison through the real gap engine on real closed waves, and the attacker's tests."""

from __future__ import annotations

import pytest
from django.test import Client

from diagnosis import services as diagnosis_services
from diagnosis.mirror import REPORTABLE
from diagnosis.models import DiagnosisResult
from reports import gap
from surveys.models import AuditEvent
from tests.diagnosis.conftest import ANSWERS, closed_wave, form_post

pytestmark = pytest.mark.django_db

RESULTS = "/api/v1/public/diagnosis/results/"


def _values(node, key: str) -> list:
    """Every value under ``key`` anywhere in a JSON tree."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [x for v in node.values() for x in _values(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in _values(v, key)]
    return []


def submit_api(client, token: str | None, language: str = "en") -> dict:
    body = {"language": language, "answers": ANSWERS, **({"token": token} if token else {})}
    response = client.post(RESULTS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_link_result_shows_the_engines_figures_of_the_latest_closed_wave(anon_client, org, link_and_token):
    _, token = link_and_token
    closed_wave(org, slug="older", n_staff=10, n_customer=10, seed=1)
    wave = closed_wave(org, slug="latest", n_staff=15, n_customer=25, seed=2)
    body = submit_api(anon_client, token)
    mirror = body["comparison"]
    assert mirror["wave"]["name"] == "Wave latest" and mirror["staff_k"] == 5
    # The gap tests' instrument has the dimensions culture and speed: culture stands for three areas.
    assert [a["key"] for a in mirror["areas"]] == ["right_fit", "company_wide", "leadership"]
    engine = {d["key"]: d for d in gap.gap_result(wave, gap.GapView(language="en", segments=False))["dimensions"]}
    culture = mirror["areas"][0]["dimensions"][0]
    assert culture["key"] == "culture" and culture["reportable"] is True
    assert culture["status"] == engine["culture"]["report_status"] in ("ok", "ok_low_base")
    assert culture["mean_staff"] == pytest.approx(engine["culture"]["mean_staff"])
    assert culture["mean_customer"] == pytest.approx(engine["culture"]["mean_customer"])
    assert culture["gap"] == pytest.approx(engine["culture"]["gap"])
    # The read is audited as a gap view, through the diagnosis, by nobody logged in.
    event = AuditEvent.objects.filter(action=AuditEvent.Action.GAP_VIEW, wave=wave).latest("id")
    assert event.details["via"] == "diagnosis" and event.user is None
    # The page and the PDF's source show the same figure.
    page = Client().get(body["result_url"]).content.decode()
    assert f"{culture['mean_staff']:.2f}" in page and "How your staff and customers saw the same areas" in page


def test_a_wave_with_fewer_than_k_staff_shows_no_staff_figure(anon_client, org, link_and_token):
    _, token = link_and_token
    wave = closed_wave(org, slug="tiny", n_staff=4, n_customer=30, k=5)
    assert wave.responses.filter(side="staff").count() == 4  # they answered; fewer than k must show nothing
    body = submit_api(anon_client, token)
    entries = [d for a in body["comparison"]["areas"] for d in a["dimensions"]]
    assert entries, "the comparison names the areas it cannot show"
    for entry in entries:
        assert entry["reportable"] is False
        assert entry["mean_staff"] is None and entry["gap"] is None and entry["mean_customer"] is None
        assert entry["status"] not in REPORTABLE
    page = Client().get(body["result_url"]).content.decode()
    assert "Not enough responses to show" in page
    # Nowhere a staff mean: not in the JSON, not in the page's table.
    assert all(v is None for v in _values(body["comparison"], "mean_staff"))
    table = page.split('class="mirror-table"')[1].split("</table>")[0]
    assert 'class="num"' not in table


def test_a_stranger_with_a_wrong_or_switched_off_token_gets_404_and_no_data(anon_client, org, link_and_token):
    link, token = link_and_token
    closed_wave(org, slug="real", n_staff=12, n_customer=12)
    for bad in ("wrong-token", token[:-1], token + "x"):
        response = anon_client.post(RESULTS, {"language": "en", "answers": ANSWERS, "token": bad}, format="json")
        assert response.status_code == 404 and set(response.json()) == {"detail", "code"}
        assert Client().get(f"/diagnosis/o/{bad}/").status_code == 404
    diagnosis_services.link_deactivate(link=link)
    assert Client().get(f"/diagnosis/o/{token}/").status_code == 404
    assert anon_client.post(RESULTS, {"language": "en", "answers": ANSWERS, "token": token},
                            format="json").status_code == 404
    assert DiagnosisResult.objects.count() == 0
    assert not AuditEvent.objects.filter(details__via="diagnosis").exists()


def test_a_result_shows_only_its_own_organizations_mirror_and_only_through_its_link(anon_client, org, other_org,
                                                                                    link_and_token):
    _, token = link_and_token
    closed_wave(org, slug="mirror-h1", n_staff=12, n_customer=12)
    other_link, other_token = diagnosis_services.link_create(organization=other_org)
    closed_wave(other_org, slug="other-h1", n_staff=12, n_customer=12, seed=9)

    anonymous = submit_api(anon_client, None)
    assert anonymous["comparison"] is None and anonymous["organization"] is None
    other = submit_api(anon_client, other_token)
    assert other["comparison"]["wave"]["name"] == "Wave other-h1" and other["organization"] == "Other Inc"
    ours = submit_api(anon_client, token)
    assert ours["comparison"]["wave"]["name"] == "Wave mirror-h1"
    # The other organization's result, read by its UUID, shows only itself and its own organization's figures.
    read = anon_client.get(f"{RESULTS}{other['id']}/").json()
    assert read["comparison"]["wave"]["name"] == "Wave other-h1"
    assert "Wave mirror-h1" not in Client().get(other["result_url"]).content.decode()
    # An anonymous result stays without any organization's data, whoever reads it.
    assert "How your staff and customers" not in Client().get(anonymous["result_url"]).content.decode()

    # Once the admins switch their link off, results through it no longer show the mirror.
    diagnosis_services.link_deactivate(link=other_link)
    assert anon_client.get(f"{RESULTS}{other['id']}/").json()["comparison"] is None


def test_the_html_form_through_a_link_shows_the_comparison_in_japanese(org, link_and_token):
    _, token = link_and_token
    closed_wave(org, slug="ja-h1", n_staff=12, n_customer=12)
    client = Client()
    response = client.post(f"/diagnosis/o/{token}/", form_post(ANSWERS, "ja"))
    page = client.get(response["Location"]).content.decode()
    assert "同じ領域を社員と顧客はどう見ていたか" in page and "文化" in page  # the dimension's Japanese name
