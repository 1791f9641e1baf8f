"""The demo's internal-services wave (`make run` loads it with `load_demo --internal-services`): one mirror per
serving department, created once, next to the seeded waves it leaves unchanged."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from reports import services
from surveys.demo import demo_counts
from surveys.demo_internal import INTERNAL_SLUG, SERVED_DEPARTMENTS, STAFF_PER_DEPARTMENT
from surveys.models import Organization, SurveyResponse, Wave


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", "--responses", "20", "--seed", "4", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_the_internal_wave_shows_each_department_and_leaves_the_seeded_waves_alone():
    _load()
    org = Organization.objects.get(slug="demo")
    before = demo_counts(org)
    printed = _load("--internal-services")
    wave = Wave.objects.get(slug=INTERNAL_SLUG)
    assert f"/reports/waves/{wave.pk}/?department=finance" in printed
    after = demo_counts(org)
    seeded = {k: v for k, v in before.items() if ":" in k}
    assert {k: after[k] for k in seeded} == seeded
    assert after[f"{INTERNAL_SLUG}:staff"] == STAFF_PER_DEPARTMENT * len(SERVED_DEPARTMENTS)
    # Every row is unlinkable, and nothing waits that a department could show.
    rows = SurveyResponse.objects.filter(wave=wave)
    assert not rows.filter(invitation__isnull=False).exists() and not rows.filter(submitted_at__isnull=False).exists()

    gaps = {}
    for department in SERVED_DEPARTMENTS:
        result = services.gap_analysis(wave=wave, segments=False, department=department["key"])
        assert result["response_counts"]["staff"] == STAFF_PER_DEPARTMENT
        assert result["response_counts"]["customer"] >= 5
        gaps[department["key"]] = {i["key"]: i["gap"] for i in result["items"]}
    # The story the README tells: Finance explains rules as specifications (the widest gap); IT is slow;
    # General affairs is closest.
    assert max(gaps["finance"], key=lambda k: gaps["finance"][k] or 0) == "understanding_rules_as_help"
    assert gaps["it"]["speed_fast"] > gaps["hr"]["speed_fast"]
    assert abs(gaps["general_affairs"]["speed_fast"]) < abs(gaps["it"]["speed_fast"])

    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-exec"))
    page = client.get(f"/reports/waves/{wave.pk}/", {"lang": "ja", "department": "finance"})
    assert page.status_code == 200 and "経理部" in page.content.decode()
    token = re.search(r"employee invitation of the internal wave \(unused\): \S+/r/([A-Za-z0-9_-]+)/", printed)
    assert token is not None
    form = Client().get(f"/r/{token.group(1)}/", {"lang": "en"})
    assert form.status_code == 200 and 'name="used" value="finance"' in form.content.decode()

    again = _load("--internal-services")
    assert Wave.objects.filter(slug=INTERNAL_SLUG).count() == 1 and "nothing changed" in again
