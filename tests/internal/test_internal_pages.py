"""The internal mirror through the respondent's forms, the executives' web page and the PDF, in both languages."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from reports import jobs
from reports.models import ReportJob, ReportStatus
from surveys import models as m
from surveys import services

pytestmark = pytest.mark.django_db

S, C = m.Side.STAFF, m.Side.CUSTOMER


def _token(internal, side: str, **segments) -> str:
    return services.invitation_create(wave=internal.wave, side=side, email=f"x{side}{segments}@example.com",
                                      segments=segments).token


def _post(client: Client, token: str, data: dict):
    page = client.get(f"/r/{token}/")
    csrf = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else ""
    return client.post(f"/r/{token}/", {**data, "csrfmiddlewaretoken": csrf, "language": "en"})


@pytest.mark.parametrize("lang, hr, hint", [("en", "HR", "Tick each department you used"),
                                            ("ja", "人事部", "利用した部門")])
def test_an_employee_sees_every_department_to_tick_in_both_languages(internal, lang, hr, hint):
    token = _token(internal, C, division="Ops")
    page = Client().get(f"/r/{token}/", {"lang": lang})
    text = page.content.decode()
    assert page.status_code == 200
    assert hr in text and hint in text
    assert 'name="used" value="hr"' in text and 'name="used" value="it"' in text
    assert 'name="hr__a_speed_fast"' in text and 'name="it__a_speed_fast"' in text
    wording = ("この部門は、私の依頼をすばやく処理してくれます。" if lang == "ja"
               else "This department handles my requests fast.")
    assert wording in text


def test_an_employee_rates_two_departments_through_the_form(internal):
    token = _token(internal, C, division="Ops")
    client = Client(enforce_csrf_checks=False)
    data = {"used": ["hr", "it"]}
    for item in internal.items:
        data[f"hr__a_{item.key}"] = "4"
        data[f"it__a_{item.key}"] = "na" if item.allow_na else "3"
    response = _post(client, token, data)
    assert response.status_code == 302, response.content.decode()[:500]
    rows = m.SurveyResponse.objects.filter(wave=internal.wave)
    assert sorted(rows.values_list("served_department", flat=True)) == ["hr", "it"]
    hr = rows.get(served_department="hr")
    assert sorted(hr.answers.values_list("value", flat=True)) == [4] * len(internal.items)
    assert _post(client, token, data).status_code == 409  # the invitation is used, for every department


def test_a_missing_answer_re_shows_the_form_naming_the_department_and_keeping_the_rest(internal):
    token = _token(internal, C, division="Ops")
    data = {"used": ["it"], **{f"it__a_{i.key}": "4" for i in internal.items[1:]}}
    response = _post(Client(), token, data)
    text = response.content.decode()
    assert response.status_code == 400
    assert "IT: " in text and 'name="it__a_speed_fast" value="4" checked' in text
    assert not m.SurveyResponse.objects.filter(wave=internal.wave).exists()


def test_an_employee_who_ticks_nothing_is_asked_to(internal):
    response = _post(Client(), _token(internal, C, division="Ops"), {})
    assert response.status_code == 400 and "Please tick at least one department" in response.content.decode()


def test_staff_see_only_their_own_department_from_the_roster(internal):
    token = _token(internal, S, served_department="it")
    text = Client().get(f"/r/{token}/", {"lang": "en"}).content.decode()
    assert 'name="it__a_speed_fast"' in text and 'name="hr__a_speed_fast"' not in text
    assert 'name="used"' not in text  # nothing to choose: the roster says where they work
    assert "How your anonymity is protected" in text
    data = {f"it__a_{i.key}": "5" for i in internal.items}
    data["hr__a_speed_fast"] = "1"  # a forged field for another department is ignored
    assert _post(Client(), token, data).status_code == 302
    assert list(m.SurveyResponse.objects.filter(wave=internal.wave).values_list("side", "served_department")) == [
        (S, "it")]


def test_the_employee_form_promises_anonymity_too(internal):
    text = Client().get(f"/r/{_token(internal, C, division='Ops')}/", {"lang": "en"}).content.decode()
    assert "How your anonymity is protected" in text and "never joined together" in text


@pytest.fixture
def answered(internal):
    for v in (4, 4, 5):
        internal.answer(S, {"hr": v}, own="hr")
    for v in (2, 3, 3):
        internal.answer(C, {"hr": v, "it": 4}, division="Sales")
    return internal


@pytest.mark.parametrize("lang, label", [("en", "HR"), ("ja", "人事部")])
def test_the_web_mirror_shows_each_department_and_defaults_to_the_first(answered, executive, lang, label):
    client = Client()
    client.force_login(executive)
    page = client.get(f"/reports/waves/{answered.wave.pk}/", {"lang": lang})
    assert page.status_code == 200
    text = page.content.decode()
    assert f'<strong aria-current="page">{label}</strong>' in text
    assert "?department=it" in text
    assert page.context["counts"]["customer"]["n"] == 3 and page.context["counts"]["staff"]["n"] == 3
    headline = page.context["headline"]
    assert headline["available"], headline
    wording = "helps employees do their jobs well" if lang == "en" else "自部門は社員の仕事に役立っている"
    assert wording in headline["sentence"] and headline["sentence"] in text
    assert "superior experience" not in text
    it = client.get(f"/reports/waves/{answered.wave.pk}/", {"department": "it", "lang": lang})
    assert it.context["counts"]["staff"]["n"] in (None, 0)  # no IT staff answered: nothing shown
    assert it.context["counts"]["customer"]["n"] == 3
    bad = client.get(f"/reports/waves/{answered.wave.pk}/", {"department": "legal"})
    assert bad.status_code == 400


def test_the_web_mirror_numbers_are_the_apis(answered, executive):
    from rest_framework.test import APIClient

    client = Client()
    client.force_login(executive)
    page = client.get(f"/reports/waves/{answered.wave.pk}/", {"department": "hr", "lang": "en"}).context
    api = APIClient()
    api.force_authenticate(executive)
    body = api.get(f"/api/v1/waves/{answered.wave.pk}/gap/", {"department": "hr"}).json()
    by_key = {r["key"]: r for r in page["items"]}
    for item in body["items"]:
        if item["gap"] is not None:
            assert by_key[item["key"]]["gap"] == pytest.approx(item["gap"])


@pytest.mark.parametrize("lang, expected", [("en", ["Serving department", "HR", "Internal services"]),
                                            ("ja", ["人事部"])])
def test_the_pdf_of_a_department_in_both_languages(answered, executive, lang, expected, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job, _ = jobs.report_job_request(wave=answered.wave, user=executive, language=lang, dispatch=False,
                                     department="hr")
    jobs.report_job_run(job.pk)
    job = ReportJob.objects.get(pk=job.pk)
    assert job.status == ReportStatus.DONE, job.error
    with job.file.open("rb") as fh:
        pdf = fh.read()
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    for needle in expected:
        assert needle in text.replace("\n", " ")


def test_a_pdf_of_an_internal_wave_needs_a_department(answered, executive):
    from surveys import errors

    with pytest.raises(errors.ValidationFailed) as exc:
        jobs.report_job_request(wave=answered.wave, user=executive, language="en", dispatch=False)
    assert "department" in exc.value.field_errors


def test_the_report_api_takes_the_department(answered, executive, monkeypatch):
    from rest_framework.test import APIClient

    monkeypatch.setattr(jobs, "report_job_dispatch", lambda job: None)
    api = APIClient()
    api.force_authenticate(executive)
    url = f"/api/v1/waves/{answered.wave.pk}/reports/"
    assert api.post(url, {"language": "en"}, format="json").status_code == 400
    response = api.post(url, {"language": "en", "department": "it"}, format="json")
    assert response.status_code == 202, response.content
    assert ReportJob.objects.get(pk=response.json()["id"]).options["department"] == "it"


def test_the_json_twin_lists_the_departments_and_takes_ratings(internal):
    from rest_framework.test import APIClient

    client = APIClient()
    token = _token(internal, C, division="Ops")
    form = client.get(f"/api/v1/public/forms/{token}/", {"lang": "ja"}).json()
    assert form["departments"] == [{"key": "hr", "label": "人事部"}, {"key": "it", "label": "情報システム部"}]
    assert form["anonymity_statement"]  # employees are promised what staff are
    bad = client.post(f"/api/v1/public/forms/{token}/", {"answers": {}}, format="json")
    assert bad.status_code == 400 and "ratings" in bad.json()
    answers = {i.key: 4 for i in internal.items}
    wrong = client.post(f"/api/v1/public/forms/{token}/", {"ratings": {"it": {**answers, "speed_fast": 8}}},
                        format="json")
    assert wrong.status_code == 400 and "it.answers.speed_fast" in wrong.json()
    ok = client.post(f"/api/v1/public/forms/{token}/", {"ratings": {"hr": answers, "it": answers}}, format="json")
    assert ok.status_code == 201, ok.content
    assert sorted(m.SurveyResponse.objects.filter(wave=internal.wave).values_list("served_department", flat=True)) \
        == ["hr", "it"]
    assert client.post(f"/api/v1/public/forms/{token}/", {"ratings": {"hr": answers}},
                       format="json").status_code == 409
    staff = _token(internal, S, served_department="it")
    staff_form = client.get(f"/api/v1/public/forms/{staff}/", {"lang": "en"}).json()
    assert staff_form["departments"] == [{"key": "it", "label": "IT"}]  # their own only, from the roster
    assert client.get(f"/api/v1/public/waves/{internal.wave.slug}/customer/").status_code == 404
