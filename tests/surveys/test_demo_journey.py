"""The demo's journey pilot (`make run` loads it with `load_demo --journey-pilot`): a v2 wave with touchpoints and the
experience modules whose mirror shows both, created once, next to the two seeded waves it leaves unchanged."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from reports import services
from surveys.demo import demo_counts
from surveys.demo_journey import PILOT_CUSTOMERS, PILOT_SLUG, PILOT_STAFF
from surveys.models import Organization, Wave


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", "--responses", "20", "--seed", "4", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_the_pilot_shows_the_journey_and_the_modules_and_leaves_the_seeded_waves_alone():
    _load()
    org = Organization.objects.get(slug="demo")
    before = demo_counts(org)
    printed = _load("--journey-pilot")
    pilot = Wave.objects.get(slug=PILOT_SLUG)
    assert f"/reports/waves/{pilot.pk}/" in printed
    after = demo_counts(org)
    seeded = {k: v for k, v in before.items() if ":" in k}  # responses per wave and side
    assert {k: after[k] for k in seeded} == seeded and after[f"{PILOT_SLUG}:customer"] == PILOT_CUSTOMERS

    result = services.gap_analysis(wave=pilot, segments=False)
    assert result["response_counts"] == {"staff": PILOT_STAFF, "customer": PILOT_CUSTOMERS}
    journey = {t["key"]: t for t in result["touchpoints"]}
    assert {"first_contact", "onboarding", "support", "billing", "renewal"} <= set(journey)
    assert all(t["report_status"] in ("ok", "ok_low_base") for t in journey.values())
    # The story the README tells: billing is the widest gap of the journey, onboarding about aligned.
    assert max(journey.values(), key=lambda t: t["gap"])["key"] == "billing"
    assert abs(journey["onboarding"]["gap"]) < 0.3
    modules = {d["key"]: d for d in result["dimensions"] if d["module"]}
    assert set(modules) == {"xm_sense", "xm_feel", "xm_think", "xm_act", "xm_relate"}
    assert modules["xm_relate"]["gap"] > modules["xm_sense"]["gap"]
    assert result["health"] is not None  # the customers are the demo's accounts

    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-exec"))
    page = client.get(f"/reports/waves/{pilot.pk}/?lang=ja").content.decode()
    assert "経験価値モジュール" in page and "請求・支払い" in page

    again = _load("--journey-pilot")
    assert Wave.objects.filter(slug=PILOT_SLUG).count() == 1 and "nothing changed" in again
