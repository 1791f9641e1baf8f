"""Diagnosis fixtures: complete answer sets, an organization link, and a real closed wave for the mirror."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from diagnosis import services as diagnosis_services
from diagnosis.questions import ITEM_KEYS
from surveys import models as m
from surveys import releases, services
from tests.gap.conftest import build_instrument, fill_wave

# Hand-picked answers (see test_scoring.py for the scores they give).
ANSWERS = {"q01": 4, "q02": 2, "q03": 5, "q04": 3, "q05": 1, "q06": 4, "q07": 4, "q08": 2, "q09": 3, "q10": 5,
           "q11": 1, "q12": 2, "q13": 3, "q14": 4, "q15": 5}


def form_post(answers: dict, language: str = "en", **extra) -> dict:
    """The HTML form's body for ``answers`` (item key → value)."""
    return {"language": language, **{f"a_{k}": str(v) for k, v in answers.items()}, **extra}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # rate-limit counters and gap results live in the cache
    yield
    cache.clear()


@pytest.fixture
def answers() -> dict:
    assert set(ANSWERS) == set(ITEM_KEYS)
    return dict(ANSWERS)


@pytest.fixture
def link_and_token(org):
    return diagnosis_services.link_create(organization=org, label="Leadership offsite")


def closed_wave(org: m.Organization, *, slug: str, n_staff: int, n_customer: int, k: int = 5,
                seed: int = 3) -> m.Wave:
    """A wave on the gap tests' instrument (dimensions culture and speed), filled through the services, closed."""
    instrument = m.Instrument.objects.filter(organization=org, key="gap-test").first() or build_instrument(org)
    wave = services.wave_create(organization=org, instrument=instrument, name=f"Wave {slug}", slug=slug,
                                anonymity_threshold=k)
    services.wave_open(wave=wave)
    fill_wave(wave, seed=seed, n_staff=n_staff, n_customer=n_customer)
    releases.publish_due(wave)
    return services.wave_close(wave=wave)
