"""The report API and the executives' page: who may ask, poll and download; errors in the one shape."""

from __future__ import annotations

import pytest
from django.test import Client

from reports import jobs
from reports.models import ReportJob, ReportStatus
from surveys import models as m
from tests import factories as f
from tests.reports.conftest import FAKE_PDF


@pytest.fixture
def wave(org):
    return f.WaveFactory(organization=org, status=m.WaveStatus.CLOSED, slug="autumn", name="Autumn")


def _done_job(wave) -> ReportJob:
    job, _ = jobs.report_job_request(wave=wave, language="en", dispatch=False)
    jobs.report_job_run(job.pk)
    return ReportJob.objects.get(pk=job.pk)


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 202), ("analyst", 202), ("executive", 202), ("outsider", 404), ("anonymous", 401),
])
def test_members_of_the_organization_may_request_a_report(clients, wave, no_dispatch, role, expected):
    response = clients[role].post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en"}, format="json")
    assert response.status_code == expected, response.content
    if expected == 202:
        body = response.json()
        assert body["status"] == "queued" and body["progress"] == 0 and body["pdf_url"] is None
        assert body["options"] == {"language": "en", "compare_wave": None, "segments": True, "weighted": False}
        assert ReportJob.objects.get(pk=body["id"]).wave == wave
    else:
        assert set(response.json()) == {"detail", "code"}
        assert not ReportJob.objects.exists()


def test_the_previous_wave_is_the_default_comparison(owner_client, wave, org, no_dispatch):
    earlier = f.WaveFactory(organization=org, slug="spring")
    wave.previous_wave = earlier
    wave.save()
    body = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "ja"}, format="json").json()
    assert body["options"]["compare_wave"] == earlier.pk
    body = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "ja", "compare_wave": None},
                             format="json").json()
    assert body["options"]["compare_wave"] is None


@pytest.mark.parametrize("payload", [
    {"language": "fr"}, {"compare_wave": "soon"}, {"compare_wave": 0}, {"segments": "maybe"},
])
def test_bad_options_get_per_field_errors(owner_client, wave, payload, no_dispatch):
    response = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Some values are not valid."
    assert next(iter(payload)) in body


def test_a_report_of_a_segment_filter_is_its_own_job_and_a_bad_filter_a_field_error(owner_client, wave,
                                                                                      no_dispatch):
    url = f"/api/v1/waves/{wave.pk}/reports/"
    everyone = owner_client.post(url, {"language": "en", "compare_wave": None}, format="json").json()
    sales = owner_client.post(url, {"language": "en", "compare_wave": None, "staff": ["department:Sales"]},
                              format="json").json()
    assert sales["id"] != everyone["id"] and sales["options"]["staff"] == {"department": "Sales"}
    assert "staff" not in everyone["options"]
    again = owner_client.post(url, {"language": "en", "compare_wave": None, "staff": ["department:Sales"]},
                              format="json").json()
    assert again["id"] == sales["id"]  # an identical filtered request is the same job
    for payload, field in (({"staff": ["salary:high"]}, "staff"), ({"customer": ["tier"]}, "customer"),
                           ({"staff": ["tenure:10y"]}, "staff")):
        response = owner_client.post(url, {"language": "en", **payload}, format="json")
        assert response.status_code == 400 and field in response.json(), (payload, response.content)


def test_a_comparison_wave_of_another_organization_is_a_field_error(owner_client, wave, other_org, no_dispatch):
    foreign = f.WaveFactory(organization=other_org)
    response = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"compare_wave": foreign.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["compare_wave"] == ["Choose another wave of this organization."]


def test_an_identical_request_returns_the_finished_report(owner_client, executive_client, wave, fake_render):
    job = _done_job(wave)
    body = executive_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en", "compare_wave": None},
                                 format="json").json()
    assert body["id"] == str(job.pk)
    assert body["status"] == "done" and body["progress"] == 100
    assert body["pdf_url"] == f"http://testserver/api/v1/reports/{job.pk}/pdf/"


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 200), ("analyst", 200), ("executive", 200), ("outsider", 404), ("anonymous", 401),
])
def test_members_poll_and_download_others_get_404(clients, wave, fake_render, role, expected):
    job = _done_job(wave)
    status = clients[role].get(f"/api/v1/reports/{job.pk}/")
    assert status.status_code == expected
    pdf = clients[role].get(f"/api/v1/reports/{job.pk}/pdf/")
    assert pdf.status_code == expected
    if expected == 200:
        assert status.json()["status"] == "done"
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"].startswith('attachment; filename="kagami-autumn-en-')
        assert b"".join(pdf.streaming_content) == FAKE_PDF


def test_a_report_that_is_not_done_cannot_be_downloaded_yet(owner_client, wave, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en")
    response = owner_client.get(f"/api/v1/reports/{job.pk}/pdf/")
    assert response.status_code == 409
    assert response.json() == {"detail": "The report is queued (0%).", "code": "report_not_ready"}


def test_a_failed_report_says_why(owner_client, wave, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en")
    ReportJob.objects.filter(pk=job.pk).update(status=ReportStatus.FAILED, error="RuntimeError: boom")
    assert owner_client.get(f"/api/v1/reports/{job.pk}/").json()["error"] == "RuntimeError: boom"
    detail = owner_client.get(f"/api/v1/reports/{job.pk}/pdf/").json()["detail"]
    assert detail == "The report failed: RuntimeError: boom"


@pytest.mark.parametrize("ref", ["not-a-uuid", "418d9cf8-9a05-4043-9f0d-2fd809cf3e4b"])
def test_unknown_report_ids_are_a_plain_404(owner_client, ref):
    response = owner_client.get(f"/api/v1/reports/{ref}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_report_list_shows_only_your_organizations_reports(owner_client, outsider_client, wave, no_dispatch):
    job, _ = jobs.report_job_request(wave=wave, language="en")
    assert [r["id"] for r in owner_client.get("/api/v1/reports/").json()["results"]] == [str(job.pk)]
    assert outsider_client.get("/api/v1/reports/").json()["results"] == []


# --------------------------------------------------------------------------- the HTML page


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_report_page_needs_a_login():
    response = Client().get("/reports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/reports/")


def test_the_login_page_renders():
    response = Client().get("/accounts/login/?next=/reports/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_an_executive_sees_the_waves_and_downloads_a_report(executive, wave, other_org, fake_render):
    f.WaveFactory(organization=other_org, name="Their secret wave")
    client = _login(executive)
    page = client.get("/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Autumn" in html and "Their secret wave" not in html
    assert f'action="/reports/waves/{wave.pk}/ja/"' in html and f'action="/reports/waves/{wave.pk}/en/"' in html

    # In-process dispatch runs after commit; run the queued job ourselves for the test.
    response = client.post(f"/reports/waves/{wave.pk}/en/")
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/jobs/{job.pk}/"
    waiting = client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert 'http-equiv="refresh"' in waiting
    jobs.report_job_run(job.pk)
    done = client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert f'href="/reports/jobs/{job.pk}/pdf/"' in done and 'http-equiv="refresh"' not in done
    pdf = client.get(f"/reports/jobs/{job.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content) == FAKE_PDF


def test_another_organizations_wave_and_report_are_404_on_the_page(outsider, wave, fake_render):
    job = _done_job(wave)
    client = _login(outsider)
    assert client.post(f"/reports/waves/{wave.pk}/en/").status_code == 404
    assert client.get(f"/reports/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/reports/jobs/{job.pk}/pdf/").status_code == 404
    assert client.post(f"/reports/waves/{wave.pk}/fr/").status_code == 404


@pytest.mark.parametrize("value", ["9" * 19, "9" * 25, "abc", "-1", "1.5", "\u00b2", "\u0661", " 1"])
def test_a_bad_wave_filter_on_the_report_list_is_a_400_naming_the_field(owner_client, wave, value):
    response = owner_client.get("/api/v1/reports/", {"wave": value})
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "Some values are not valid.", "code": "invalid",
                               "wave": ["Must be a wave id: up to 18 digits."]}


def test_the_report_list_filters_by_wave_with_ids_up_to_18_digits(owner_client, wave, org, no_dispatch):
    other = f.WaveFactory(organization=org, slug="winter")
    job, _ = jobs.report_job_request(wave=wave, language="en", dispatch=False)
    jobs.report_job_request(wave=other, language="en", dispatch=False)
    assert [r["id"] for r in owner_client.get("/api/v1/reports/", {"wave": wave.pk}).json()["results"]] == [
        str(job.pk)]
    assert owner_client.get("/api/v1/reports/", {"wave": "9" * 18}).json()["results"] == []
    assert len(owner_client.get("/api/v1/reports/", {"wave": ""}).json()["results"]) == 2  # empty: no filter


def test_a_report_request_body_over_the_upload_limit_is_a_413(settings, owner_client, wave, no_dispatch):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en", "pad": "x" * 2_000},
                                 format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not ReportJob.objects.exists()


def test_a_report_request_in_plain_text_is_a_415(owner_client, wave, no_dispatch):
    response = owner_client.post(f"/api/v1/waves/{wave.pk}/reports/", "language=en", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("wave_id", ["9" * 19, "9" * 25])
def test_a_report_request_for_a_wave_id_too_large_to_exist_is_a_404(owner_client, wave_id, no_dispatch):
    response = owner_client.post(f"/api/v1/waves/{wave_id}/reports/", {"language": "en"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
