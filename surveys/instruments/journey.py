# Questionnaire prose: whole sentences on one line are easier to review than wrapped ones.
# ruff: noqa: E501
"""Touchpoints (moments of truth) as plain data: the default journey, and the built-in instrument's version 2.

Decisions, so nobody has to guess:

* The default touchpoints, in journey order: first contact, purchase, delivery,
  onboarding, first value, everyday use, support, billing, renewal. An
  organisation edits its own list (``surveys.services.touchpoints``); until it
  does, this list is its list.
* ``kagami-core`` v2 is v1 unchanged in wording, keys and dimensions, plus a
  touchpoint on the v1 items where one truly fits (``V1_TOUCHPOINTS``: an item
  about answering requests is a support moment, one about keeping promised
  deadlines a delivery moment; items about attitudes that hold everywhere get
  none), and six new matched pairs for the moments v1 does not ask about
  (``JOURNEY_ITEMS``). The new pairs belong to **no dimension**: the seven
  dimensions, their alpha and the overall score stay exactly those of v1, so
  v1 and v2 waves compare dimension by dimension. They come after the
  dimension items and before the headline. None is reverse-keyed (v1's effort
  item already is).
* v1 stays installed and frozen as it is: waves that used it never change; v2
  is installed next to it by a data migration.

This module imports nothing from Django so the data migration can use it.
"""

from __future__ import annotations

from typing import Any

from surveys.instruments import builtin

BUILTIN_V2 = 2

DEFAULT_TOUCHPOINTS: list[dict[str, str]] = [
    {"key": "first_contact", "name_en": "First contact", "name_ja": "最初の接点"},
    {"key": "purchase", "name_en": "Purchase", "name_ja": "購入・契約"},
    {"key": "delivery", "name_en": "Delivery", "name_ja": "納品・提供"},
    {"key": "onboarding", "name_en": "Onboarding", "name_ja": "導入・立ち上げ"},
    {"key": "first_value", "name_en": "First value", "name_ja": "最初の成果"},
    {"key": "everyday_use", "name_en": "Everyday use", "name_ja": "日常の利用"},
    {"key": "support", "name_en": "Support", "name_ja": "サポート"},
    {"key": "billing", "name_en": "Billing", "name_ja": "請求・支払い"},
    {"key": "renewal", "name_en": "Renewal", "name_ja": "契約更新"},
]

# v1 items and the one touchpoint each truly belongs to.
V1_TOUCHPOINTS: dict[str, str] = {
    "culture_long_term_interest": "purchase",
    "speed_response": "support",
    "speed_resolution": "support",
    "speed_deadlines_kept": "delivery",
    "ease_little_effort": "everyday_use",
    "proactive_suggests_value": "everyday_use",
    "onboarding_smooth_start": "onboarding",
    "onboarding_reaches_outcomes": "first_value",
    "experience_trouble_builds_trust": "support",
}

JOURNEY_ITEMS: list[dict[str, Any]] = [
    {
        "key": "journey_first_contact_clear",
        "touchpoint": "first_contact",
        "construct": "At first contact, the customer quickly understands what the company can do for them",
        "staff_text_en": "When someone first contacts us, they quickly understand what we can do for them.",
        "staff_text_ja": "初めて当社に問い合わせた人は、当社が何をしてくれるのかをすぐに理解できている。",
        "customer_text_en": "When I first contacted {company}, I quickly understood what it could do for me.",
        "customer_text_ja": "初めて{company}に問い合わせたとき、何をしてもらえるのかをすぐに理解できました。",
    },
    {
        "key": "journey_purchase_honest",
        "touchpoint": "purchase",
        "construct": "What was promised when buying matches what the customer got",
        "staff_text_en": "What we promise customers when they buy matches what they actually get.",
        "staff_text_ja": "購入・契約の時に当社が顧客に約束した内容は、実際に提供される内容と一致している。",
        "customer_text_en": "What {company} promised when I bought matches what I actually got.",
        "customer_text_ja": "購入・契約の時に{company}が約束した内容は、実際に受けた内容と一致しています。",
    },
    {
        "key": "journey_onboarding_contact",
        "touchpoint": "onboarding",
        "construct": "During onboarding the customer always knows whom to ask",
        "staff_text_en": "While customers are getting started, they always know whom to ask at our company.",
        "staff_text_ja": "利用開始の時期に、顧客は当社の誰に聞けばよいかを常に把握できている。",
        "customer_text_en": "While I was getting started, I always knew whom to ask at {company}.",
        "customer_text_ja": "利用を始めた時期、{company}の誰に聞けばよいかを常に把握できていました。",
    },
    {
        "key": "journey_support_first_time",
        "touchpoint": "support",
        "construct": "Support solves the problem the first time",
        "staff_text_en": "When customers ask our support for help, we solve the problem the first time.",
        "staff_text_ja": "顧客がサポートに助けを求めたとき、当社は一度の対応で問題を解決している。",
        "customer_text_en": "When I ask {company}'s support for help, the problem is solved the first time.",
        "customer_text_ja": "{company}のサポートに助けを求めると、一度の対応で問題が解決します。",
    },
    {
        "key": "journey_billing_clear",
        "touchpoint": "billing",
        "construct": "Invoices are clear and hold no surprises",
        "staff_text_en": "Our invoices are clear to customers and hold no surprises.",
        "staff_text_ja": "当社の請求書は顧客にとってわかりやすく、想定外の内容がない。",
        "customer_text_en": "{company}'s invoices are clear to me and hold no surprises.",
        "customer_text_ja": "{company}の請求書はわかりやすく、想定外の内容がありません。",
    },
    {
        "key": "journey_renewal_value_shown",
        "touchpoint": "renewal",
        "construct": "Before renewal the company shows the value delivered",
        "staff_text_en": "Before a renewal, we show customers the value they have received from us.",
        "staff_text_ja": "契約更新の前に、当社は顧客がこれまでに得た価値を具体的に示している。",
        "customer_text_en": "Before a renewal, {company} shows me the value I have received.",
        "customer_text_ja": "契約更新の前に、{company}はこれまでに得られた価値を具体的に示してくれます。",
    },
]

INSTRUMENT_V2: dict[str, Any] = {
    **{k: v for k, v in builtin.INSTRUMENT.items() if k not in ("version",)},
    "version": BUILTIN_V2,
    "name_en": "Kagami core v2: customer focus, inside and out, along the customer journey",
    "name_ja": "Kagami 標準 v2：社内と顧客から見た顧客志向（カスタマージャーニー付き）",
    "description_en": builtin.INSTRUMENT["description_en"] + (
        " Version 2 marks the questions that belong to a moment of the customer journey and adds six "
        "matched questions on first contact, purchase, onboarding, support, billing and renewal."),
    "description_ja": builtin.INSTRUMENT["description_ja"] + (
        "第2版では、カスタマージャーニーの場面に当たる設問にその場面を示し、最初の接点、購入・契約、導入、"
        "サポート、請求、契約更新についての対の設問を6問加えています。"),
}


def default_touchpoint_keys() -> list[str]:
    return [t["key"] for t in DEFAULT_TOUCHPOINTS]


def item_rows_v2() -> list[dict[str, Any]]:
    """Every item of v2 as ItemPair field values (with ``dimension`` key and ``touchpoint``), in order.

    v1's rows with their touchpoints, the journey items after the dimension items and before the
    headline, orders renumbered 10, 20, ….
    """
    rows = [dict(row, touchpoint=V1_TOUCHPOINTS.get(row["key"], "")) for row in builtin.item_rows()]
    headline_at = next(i for i, row in enumerate(rows) if row["is_headline"])
    journey = [{
        "dimension": None, "key": item["key"], "kind": "likert", "construct": item["construct"],
        "staff_text_en": item["staff_text_en"], "staff_text_ja": item["staff_text_ja"],
        "customer_text_en": item["customer_text_en"], "customer_text_ja": item["customer_text_ja"],
        "scale_points": 5, "allow_na": True, "reverse_keyed": False, "topbox_levels": list(builtin.LIKERT_TOPBOX_5),
        "is_headline": False, "touchpoint": item["touchpoint"],
    } for item in JOURNEY_ITEMS]
    rows = rows[:headline_at] + journey + rows[headline_at:]
    for index, row in enumerate(rows, start=1):
        row["order"] = index * 10
    return rows
