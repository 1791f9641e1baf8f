"""The demo's journey pilot: a third wave, on the built-in questionnaire v2 with the experience modules.

`make run` shows the customer journey (touchpoints, docs/methods.md §3.4) and the experience modules
(sense, feel, think, act, relate) on this wave, next to the 2026 H1 and H2 waves of v1. It stays open, alongside
H2 (the quick diagnosis compares with the latest *closed* wave, H1). It has its own
random stream and is created after them, so their data (and every test that pins their figures) does not
move. Staff answer through invitations carrying their department (the roster, docs/anonymity.md P5);
customers through invitations of the demo's accounts, so perception vs churn and health work here too.

The story its numbers tell: staff rate every moment alike (about 4 of 5); customers are pleased at first
contact and onboarding, and least at billing and support — the moments of truth where the gap is widest.
Of the experience modules, "sense" (how it looks and feels to use) is close, "relate" (belonging to a
community of users) far apart.
"""

from __future__ import annotations

import random
from datetime import date

from surveys import services
from surveys.instruments.loader import builtin_instrument
from surveys.instruments.modules import EXPERIENCE_MODULES
from surveys.models import CustomerAccount, Language, Organization, Side, Wave

PILOT_NAME = "2026 H2 journey pilot"
PILOT_SLUG = "demo-2026-journey"
PILOT_OPENS, PILOT_CLOSES = date(2026, 11, 2), date(2026, 12, 11)  # alongside H2
PILOT_STAFF, PILOT_CUSTOMERS = 60, 160
DEPARTMENTS = ["Sales", "Customer Success", "Support", "Engineering"]

# Latent means (favourable direction, 5-point scale) by touchpoint (journey pairs) and by dimension.
STAFF_MEAN = 4.0
CUSTOMER_TOUCHPOINT = {"first_contact": 3.9, "purchase": 3.5, "onboarding": 3.8, "support": 2.7,
                       "billing": 2.5, "renewal": 3.0}
CUSTOMER_DIMENSION = {"culture": 3.0, "speed": 3.2, "ease": 3.4, "personalization": 3.1, "proactive": 3.2,
                      "onboarding": 3.9, "experience": 3.5,
                      "xm_sense": 3.8, "xm_feel": 3.3, "xm_think": 3.1, "xm_act": 2.9, "xm_relate": 2.4}
CUSTOMER_OTHER = 3.0  # the headline and any other pair


def _level(x: float, top: int) -> int:
    return max(1, min(top, round(x)))


def _customer_mean(item) -> float:
    if item.touchpoint and item.dimension_id is None:
        return CUSTOMER_TOUCHPOINT.get(item.touchpoint, CUSTOMER_OTHER)
    if item.dimension_id is not None:
        return CUSTOMER_DIMENSION.get(item.dimension.key, CUSTOMER_OTHER)
    return CUSTOMER_OTHER


def _answers(rng: random.Random, items: list, side: str, lean: float) -> dict[str, object]:
    answers: dict[str, object] = {}
    likert = [i for i in items if not i.is_outcome]
    for item in likert:
        if rng.random() < 0.06:
            answers[item.key] = "na"
            continue
        mean = STAFF_MEAN if side == Side.STAFF else _customer_mean(item)
        level = _level(mean + lean + rng.gauss(0, 0.7), item.scale_max)
        answers[item.key] = item.scale_max + 1 - level if item.reverse_keyed else level
    if side == Side.CUSTOMER:
        overall = sum(_customer_mean(i) for i in likert) / max(len(likert), 1) + lean
        for item in items:
            if item.kind == "nps":
                answers[item.key] = max(0, min(10, round(2.3 * overall - 1.0 + rng.gauss(0, 1.3))))
            elif item.kind == "ces":
                answers[item.key] = max(1, min(7, round(1.6 * overall - 0.9 + rng.gauss(0, 0.9))))
            elif item.kind in ("csat", "renewal"):
                answers[item.key] = _level(overall + 0.3 + rng.gauss(0, 0.6), 5)
    return answers


def pilot_load(org: Organization, *, staff_segment_fields: list, customer_segment_fields: list,
               seed: int = 2026) -> Wave:
    """Create and fill the pilot wave of ``org`` (the demo organization); returns it."""
    rng = random.Random(seed)
    wave = services.wave_create(
        organization=org, instrument=builtin_instrument(version=2), name=PILOT_NAME, slug=PILOT_SLUG,
        modules=[EXPERIENCE_MODULES], opens_on=PILOT_OPENS, closes_on=PILOT_CLOSES, languages=["ja", "en"],
        default_language=Language.JA, anonymity_threshold=5, staff_segment_fields=staff_segment_fields,
        customer_segment_fields=customer_segment_fields)
    services.wave_open(wave=wave)
    staff_items = services.survey_items(wave=wave, side=Side.STAFF)
    for n in range(PILOT_STAFF):
        issued = services.invitation_create(wave=wave, side=Side.STAFF,
                                            segments={"department": DEPARTMENTS[n % len(DEPARTMENTS)]})
        services.response_submit(wave=wave, side=Side.STAFF, answers=_answers(rng, staff_items, Side.STAFF,
                                                                              rng.gauss(0, 0.35)),
                                 language=rng.choice(["ja", "ja", "en"]), channel="invitation",
                                 invitation=issued.invitation, required=False)
    customer_items = services.survey_items(wave=wave, side=Side.CUSTOMER)
    accounts = list(CustomerAccount.objects.filter(organization=org).order_by("pk"))
    for n in range(PILOT_CUSTOMERS):
        account = accounts[n % len(accounts)] if accounts else None
        # Healthier accounts lean favourable, churned ones less so: the health and churn sections have a signal.
        lean = ((account.health_score - 50) / 100 if account and account.health_score is not None else 0.0)
        issued = services.invitation_create(wave=wave, side=Side.CUSTOMER, customer_account=account)
        services.response_submit(wave=wave, side=Side.CUSTOMER,
                                 answers=_answers(rng, customer_items, Side.CUSTOMER, lean + rng.gauss(0, 0.4)),
                                 language=rng.choice(["ja", "ja", "en"]), channel="invitation",
                                 invitation=issued.invitation, required=False)
    return wave
