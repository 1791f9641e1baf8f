"""A small wave with known answers, built through the services, for the gap engine's tests."""

from __future__ import annotations

import random

import pytest

from surveys import models as m
from surveys import releases, services
from tests import factories as f


def build_instrument(org) -> m.Instrument:
    inst = f.InstrumentFactory(organization=org, key="gap-test")
    culture = f.DimensionFactory(instrument=inst, key="culture", order=1, name_en="Culture", name_ja="文化")
    speed = f.DimensionFactory(instrument=inst, key="speed", order=2, name_en="Speed", name_ja="スピード")
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c1", order=1, is_headline=True)
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c2", order=2)
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c3", order=3, reverse_keyed=True)
    f.ItemPairFactory(instrument=inst, dimension=speed, key="s1", order=4)
    f.ItemPairFactory(instrument=inst, dimension=speed, key="s2", order=5)
    m.ItemPair.objects.create(instrument=inst, key="nps", order=9, kind=m.ItemKind.NPS, customer_text_en="Recommend?",
                              customer_text_ja="推奨", allow_na=False, topbox_levels=[9, 10])
    return inst


def fill_wave(wave, *, seed: int, n_staff: int, n_customer: int, staff_shift: float = 1.0,
              departments=("Sales", "Support", "Engineering", "Ops")) -> list[dict]:
    """Submit random answers through the real service; returns what was submitted (for brute-force checks)."""
    rng = random.Random(seed)
    keys = ["c1", "c2", "c3", "s1", "s2"]
    submitted = []
    accounts = [f.CustomerAccountFactory(organization=wave.organization,
                                         status=rng.choice(["active", "churned", "renewed"]))
                for _ in range(6)]

    def draw(center: float) -> object:
        if rng.random() < 0.08:
            return "na"
        return max(1, min(5, round(rng.gauss(center, 1.0))))

    for i in range(n_staff):
        answers = {k: draw(3.0 + staff_shift) for k in keys}
        dept = departments[i % len(departments)] if i < n_staff - 3 else "Legal"
        # Staff answer through invitations, so their department comes from the roster (disclosure P5:
        # self-declared segments never lift a group over the threshold).
        inv = services.invitation_create(wave=wave, side="staff", segments={"department": dept})
        services.response_submit(wave=wave, side="staff", answers=answers, language="en", channel="invitation",
                                 invitation=inv.invitation, required=False)
        submitted.append({"side": "staff", "answers": answers, "segments": {"department": dept}})
    for i in range(n_customer):
        answers = {k: draw(3.0) for k in keys}
        answers["nps"] = rng.randint(0, 10)
        tier = ["Gold", "Silver", "Bronze"][i % 3]
        account = accounts[i % len(accounts)]
        inv = services.invitation_create(wave=wave, side="customer", customer_account=account,
                                         segments={"tier": tier})
        weight = round(rng.uniform(0.5, 3.0), 2)
        services.response_submit(wave=wave, side="customer", answers=answers, language="ja", channel="invitation",
                                 invitation=inv.invitation, required=False, weight=weight)
        submitted.append({"side": "customer", "answers": answers, "segments": {"tier": tier}, "weight": weight,
                          "account_status": account.status})
    return submitted


@pytest.fixture(scope="module")
def gap_data(django_db_setup, django_db_blocker):
    """One wave with 150 submitted responses, built once per test module through the real services.

    Built outside the per-test transactions (so it is not rolled back between
    tests) and deleted at the end of the module.
    """
    with django_db_blocker.unblock():
        org = m.Organization.objects.create(name="Gap Corp", slug="gap-corp", display_name_en="Gap Corp",
                                            display_name_ja="ギャップ株式会社")
        inst = build_instrument(org)
        wave = services.wave_create(organization=org, instrument=inst, name="H2", slug="gap-h2")
        services.wave_open(wave=wave)
        submitted = fill_wave(wave, seed=7, n_staff=60, n_customer=90)
        releases.publish_due(wave)  # read as the engine reads: published responses only
    yield org.pk, wave.pk, submitted
    with django_db_blocker.unblock():
        m.SurveyResponse.objects.filter(wave__organization_id=org.pk).delete()
        m.Wave.objects.filter(organization_id=org.pk).delete()
        m.Organization.objects.filter(pk=org.pk).delete()


@pytest.fixture
def org(gap_data, db):
    """The cast's organization is the gap wave's organization in these tests."""
    return m.Organization.objects.get(pk=gap_data[0])


@pytest.fixture
def gap_wave(gap_data, db):
    return m.Wave.objects.get(pk=gap_data[1]), gap_data[2]


@pytest.fixture
def earlier_wave(gap_wave):
    """A second, earlier wave of the gap wave's organization, answered and published (rolled back after the test)."""
    wave, _ = gap_wave
    h1 = services.wave_create(organization=wave.organization, instrument=wave.instrument, name="H1 earlier",
                              slug="gap-h1")
    services.wave_open(wave=h1)
    fill_wave(h1, seed=3, n_staff=30, n_customer=30, staff_shift=0.2)
    releases.publish_due(h1)
    return h1


@pytest.fixture
def fresh_wave(db):
    """An open wave with no response yet, on the gap tests' instrument (kept count tables start from it)."""
    org = m.Organization.objects.create(name="Kept Corp", slug="kept-corp", display_name_en="Kept",
                                        display_name_ja="キープ")
    wave = services.wave_create(organization=org, instrument=build_instrument(org), name="K", slug="kept")
    services.wave_open(wave=wave)
    return wave
