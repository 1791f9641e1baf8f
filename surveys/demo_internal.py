"""The demo's internal-services wave: HR, IT, Finance and General affairs, rated by the demo company's employees.

`make run` shows the internal-customer mirror (surveys/internal.py) on this wave: pick a serving department on
the web mirror to see its staff against the employees who used it. It has its own random stream and is created
after the other waves, so their data (and every test that pins their figures) does not move. Everyone
answers through invitations (an internal wave takes no anonymous answers): staff carry the department they
work in, employees their division (the roster, docs/anonymity.md P5). The wave stays open.

The story its numbers tell: every department's staff rate their service about 4 of 5. Employees find
General affairs close to that, HR a little below, IT slow (speed and follow-through far apart), and Finance
explaining its rules as specifications rather than help (the widest gap of all).
"""

from __future__ import annotations

import random
from datetime import date

from surveys import services
from surveys.instruments.loader import internal_instrument
from surveys.models import Language, Organization, Side, Wave, WaveKind

INTERNAL_NAME = "2026 internal services"
INTERNAL_SLUG = "demo-2026-internal"
INTERNAL_OPENS, INTERNAL_CLOSES = date(2026, 11, 16), date(2026, 12, 18)
SERVED_DEPARTMENTS = [
    {"key": "hr", "label_en": "HR", "label_ja": "人事部"},
    {"key": "it", "label_en": "IT", "label_ja": "情報システム部"},
    {"key": "finance", "label_en": "Finance", "label_ja": "経理部"},
    {"key": "general_affairs", "label_en": "General affairs", "label_ja": "総務部"},
]
DIVISIONS = ["Sales", "Customer Success", "Support", "Engineering"]
DIVISION_FIELD = {"key": "division", "label_en": "Division", "label_ja": "所属本部", "choices": DIVISIONS,
                  "choice_labels": {"Sales": {"ja": "営業", "en": "Sales"},
                                    "Customer Success": {"ja": "カスタマーサクセス", "en": "Customer Success"},
                                    "Support": {"ja": "サポート", "en": "Support"},
                                    "Engineering": {"ja": "開発", "en": "Engineering"}}}
STAFF_PER_DEPARTMENT = 8
EMPLOYEES = 140
# How likely an employee used each department in the period.
USE = {"hr": 0.7, "it": 0.85, "finance": 0.45, "general_affairs": 0.55}

STAFF_MEAN = 4.0
EMPLOYEE_MEAN = {"hr": 3.5, "it": 3.2, "finance": 3.1, "general_affairs": 3.8}
# Where a department departs from its own mean (by item key).
EMPLOYEE_ITEM_SHIFT = {
    "it": {"speed_fast": -0.9, "speed_follows_through": -0.7, "ease_reachable": -0.4},
    "finance": {"understanding_rules_as_help": -1.3, "understanding_situation": -0.6, "ease_runaround": -0.5},
    "hr": {"proactive_before_asked": -0.5},
}


def _level(x: float) -> int:
    return max(1, min(5, round(x)))


def _answers(rng: random.Random, items: list, mean: float, shifts: dict[str, float]) -> dict[str, object]:
    answers: dict[str, object] = {}
    lean = rng.gauss(0, 0.35)
    for item in items:
        if rng.random() < 0.05:
            answers[item.key] = "na"
            continue
        level = _level(mean + shifts.get(item.key, 0.0) + lean + rng.gauss(0, 0.7))
        answers[item.key] = 6 - level if item.reverse_keyed else level
    return answers


def internal_load(org: Organization, *, seed: int = 2027) -> Wave:
    """Create and fill the internal-services wave of ``org`` (the demo organization); returns it."""
    rng = random.Random(seed)
    wave = services.wave_create(
        organization=org, instrument=internal_instrument(), name=INTERNAL_NAME, slug=INTERNAL_SLUG,
        kind=WaveKind.INTERNAL, served_departments=SERVED_DEPARTMENTS, opens_on=INTERNAL_OPENS,
        closes_on=INTERNAL_CLOSES, languages=["ja", "en"], default_language=Language.JA,
        anonymity_threshold=5, customer_threshold=5, staff_segment_fields=[],
        customer_segment_fields=[DIVISION_FIELD],
        staff_title_en="How do the employees we serve see us?", staff_title_ja="社員から見た私たちの部門",
        customer_title_en="Internal services survey", customer_title_ja="社内サービスに関するアンケート")
    services.wave_open(wave=wave)
    staff_items = services.survey_items(wave=wave, side=Side.STAFF)
    for department in SERVED_DEPARTMENTS:
        for n in range(STAFF_PER_DEPARTMENT):
            issued = services.invitation_create(
                wave=wave, side=Side.STAFF, email=f"{department['key']}-{n:02d}@mirror-trading.example",
                segments={"served_department": department["key"]})
            services.internal_submit(
                wave=wave, side=Side.STAFF, language=rng.choice(["ja", "ja", "en"]), invitation=issued.invitation,
                ratings={department["key"]: _answers(rng, staff_items, STAFF_MEAN, {})}, required=False)
    employee_items = services.survey_items(wave=wave, side=Side.CUSTOMER)
    for n in range(EMPLOYEES):
        used = [d["key"] for d in SERVED_DEPARTMENTS if rng.random() < USE[d["key"]]]
        if not used:
            continue  # invited, did not answer
        issued = services.invitation_create(
            wave=wave, side=Side.CUSTOMER, email=f"employee-{n:03d}@mirror-trading.example",
            segments={"division": DIVISIONS[n % len(DIVISIONS)]})
        services.internal_submit(
            wave=wave, side=Side.CUSTOMER, language=rng.choice(["ja", "ja", "en"]), invitation=issued.invitation,
            ratings={key: _answers(rng, employee_items, EMPLOYEE_MEAN[key], EMPLOYEE_ITEM_SHIFT.get(key, {}))
                     for key in used}, required=False)
    return wave
