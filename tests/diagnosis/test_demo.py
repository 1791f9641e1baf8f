"""The demo shows the diagnosis after `make run`: load_demo prints a working organization link with results."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from diagnosis import selectors
from diagnosis.models import DiagnosisLink, DiagnosisResult
from tests.diagnosis.conftest import ANSWERS
from tests.surveys.test_demo import demo_org, load

pytestmark = pytest.mark.django_db

LINK_LINE = re.compile(
    r"^quick diagnosis \(the demo organization's link\): (?P<base>\S+)/diagnosis/o/(?P<token>[\w-]+)/$")


def test_load_demo_prints_a_working_link_with_a_dozen_results_and_is_idempotent():
    lines = load("--responses", "30")
    assert any(line.endswith("/diagnosis/") for line in lines)
    token = next(match.group("token") for line in lines if (match := LINK_LINE.match(line)))
    link = selectors.active_link(token)
    assert link.organization == demo_org()
    assert DiagnosisResult.objects.filter(link=link).count() == 12
    assert Client().get(f"/diagnosis/o/{token}/").status_code == 200
    summary = selectors.organization_summary(demo_org())
    assert summary["n_results"] == 12 and summary["n_included"] == 10 and summary["status"] == "ok"

    again = load("--responses", "30")
    assert [line for line in again if LINK_LINE.match(line)] == [line for line in lines if LINK_LINE.match(line)]
    assert DiagnosisLink.objects.count() == 1 and DiagnosisResult.objects.count() == 12

    # A diagnosis through the demo link compares with the demo's closed wave, through the engine.
    response = Client().post("/api/v1/public/diagnosis/results/",
                             {"language": "en", "answers": ANSWERS, "token": token}, content_type="application/json")
    mirror = response.json()["comparison"]
    assert mirror["wave"]["name"] == "2026 H1"
    assert [a["key"] for a in mirror["areas"]] == ["right_fit", "value", "proactive", "health", "company_wide",
                                                   "outcomes", "leadership", "improvement", "scale"]
    assert any(d["reportable"] for a in mirror["areas"] for d in a["dimensions"])
