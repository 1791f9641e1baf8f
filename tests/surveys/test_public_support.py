"""Builders shared by the public-form tests (HTML, JSON and browser): a tiny bilingual wave.

Kept apart from the built-in instrument and demo data on purpose: these tests
must not change when the shipped questionnaire does. No tests live here.
"""

from __future__ import annotations

from surveys import models as m
from surveys import services
from tests import factories as f


def build_instrument(org: m.Organization) -> m.Instrument:
    """Two dimensions (one with the headline item) and the four customer-only outcome items."""
    inst = f.InstrumentFactory(organization=org, name_en="Customer focus check", name_ja="顧客志向チェック")
    culture = f.DimensionFactory(instrument=inst, key="culture", order=1, name_en="Customer-centric culture",
                                 name_ja="顧客中心の文化")
    speed = f.DimensionFactory(instrument=inst, key="speed", order=2, name_en="Speed", name_ja="スピード")
    f.ItemPairFactory(
        instrument=inst, dimension=culture, key="superior", order=1, is_headline=True, allow_na=False,
        staff_text_en="We deliver a superior experience to our customers.",
        staff_text_ja="私たちは顧客に優れた体験を提供している。",
        customer_text_en="{company} delivers a superior experience to me.",
        customer_text_ja="{company}は私に優れた体験を提供している。",
    )
    f.ItemPairFactory(
        instrument=inst, dimension=culture, key="everyone", order=2, allow_na=True,
        staff_text_en="Everyone here treats customer success as their own job.",
        staff_text_ja="ここでは全員が顧客の成功を自分の仕事と考えている。",
        customer_text_en="Everyone I deal with at {company} cares about my success.",
        customer_text_ja="{company}で接する誰もが私の成功を気にかけてくれる。",
    )
    f.ItemPairFactory(
        instrument=inst, dimension=speed, key="quick", order=1, allow_na=True, scale_points=7,
        staff_text_en="We answer customers quickly.", staff_text_ja="私たちは顧客にすばやく対応している。",
        customer_text_en="{company} answers me quickly.", customer_text_ja="{company}は私にすばやく対応してくれる。",
    )
    outcomes = [
        ("nps", m.ItemKind.NPS, "How likely are you to recommend {company} to a colleague?",
         "{company}を同僚に勧める可能性はどのくらいありますか？", [9, 10]),
        ("ces", m.ItemKind.CES, "{company} made it easy for me to get things done.",
         "{company}のおかげで、手間なく用事を済ませることができた。", [6, 7]),
        ("csat", m.ItemKind.CSAT, "Overall, how satisfied are you with {company}?",
         "{company}に全体としてどのくらい満足していますか？", [4, 5]),
        ("renewal", m.ItemKind.RENEWAL, "Will you renew your contract with {company}?",
         "{company}との契約を更新しますか？", [4, 5]),
    ]
    for order, (key, kind, en, ja, topbox) in enumerate(outcomes, start=10):
        m.ItemPair.objects.create(instrument=inst, key=key, kind=kind, order=order, customer_text_en=en,
                                  customer_text_ja=ja, allow_na=False, topbox_levels=topbox)
    return inst


def open_wave(org: m.Organization, slug: str = "spring", **fields) -> m.Wave:
    """A wave on a fresh test instrument, opened."""
    wave = services.wave_create(organization=org, instrument=build_instrument(org), name="Spring", slug=slug,
                                **fields)
    return services.wave_open(wave=wave)


STAFF_ANSWERS = {"superior": "4", "everyone": "na", "quick": "6"}
CUSTOMER_ANSWERS = {"superior": "2", "everyone": "3", "quick": "na", "nps": "7", "ces": "5", "csat": "4",
                    "renewal": "5"}


def answers_for(side: str) -> dict[str, str]:
    return dict(STAFF_ANSWERS if side == m.Side.STAFF else CUSTOMER_ANSWERS)


def form_post(side: str, *, language: str = "en", comment: str = "", **overrides: str) -> dict[str, str]:
    """The POST body of a complete, valid HTML form.

    ``overrides`` replace single answers (item key → value); ``s_<key>`` ones are segment fields.
    """
    raw = {key: value for key, value in overrides.items() if key.startswith("s_")}  # segment fields as posted
    answers = answers_for(side) | {key: value for key, value in overrides.items() if key not in raw}
    data = {f"a_{key}": value for key, value in answers.items() if value is not None}
    return data | raw | {"language": language, "comment": comment}


def as_json(answers: dict[str, str]) -> dict:
    """Form answers (strings, "na") as the JSON API takes them (numbers, "na")."""
    return {key: (value if value == "na" else int(value)) for key, value in answers.items()}
