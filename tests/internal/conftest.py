"""An internal wave built through the services: HR and IT serving the organisation's employees.

``build`` answers through invitations (the only way into an internal wave) with ``services.internal_submit``,
the function the form posts to; every employee has a division (a verified segment from the roster).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache

from surveys import models as m
from surveys import services
from surveys.instruments.loader import internal_instrument

DEPARTMENTS = [{"key": "hr", "label_en": "HR", "label_ja": "人事部"},
               {"key": "it", "label_en": "IT", "label_ja": "情報システム部"}]
DIVISION = {"key": "division", "label_en": "Division", "label_ja": "所属本部", "choices": ["Sales", "Ops", "R&D"]}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@dataclass
class InternalWave:
    wave: m.Wave
    items: list = field(default_factory=list)
    k: int = 3

    def invite(self, side: str, **segments) -> m.Invitation:
        n = m.Invitation.objects.filter(wave=self.wave).count()
        return services.invitation_create(wave=self.wave, side=side, email=f"p{n}@example.com",
                                          segments=segments).invitation

    def answer(self, side: str, ratings: dict[str, int], *, division: str = "Sales",
               own: str = "hr") -> m.Invitation:
        """One person: ``ratings`` department → the value given to every item."""
        if side == m.Side.STAFF:
            invitation = self.invite(side, served_department=own)
        else:
            invitation = self.invite(side, division=division)
        services.internal_submit(
            wave=self.wave, side=side, language="en", invitation=invitation,
            ratings={d: {i.key: v for i in self.items} for d, v in ratings.items()})
        return invitation


def make_internal_wave(org: m.Organization, *, k: int = 3, slug: str = "internal-2026") -> InternalWave:
    wave = services.wave_create(
        organization=org, instrument=internal_instrument(), name="Internal services 2026", slug=slug,
        kind=m.WaveKind.INTERNAL, served_departments=DEPARTMENTS, anonymity_threshold=5, customer_threshold=5,
        staff_segment_fields=[], customer_segment_fields=[DIVISION])
    if k < 5:
        services.wave_update(wave=wave, anonymity_threshold=k, anonymity_override_reason="test", customer_threshold=k)
    services.wave_open(wave=wave)
    wave.refresh_from_db()
    items = services.survey_items(wave=wave, side=m.Side.CUSTOMER)
    return InternalWave(wave=wave, items=items, k=k)


@pytest.fixture
def internal(org) -> InternalWave:
    return make_internal_wave(org)
