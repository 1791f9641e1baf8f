# Questionnaire prose: whole sentences on one line are easier to review than wrapped ones.
# ruff: noqa: E501
"""Kagami's built-in instrument for internal services, ``kagami-internal`` v1, as plain data.

For internal waves (``Wave.kind == "internal"``, surveys/internal.py): the self side is the staff of a
serving department (HR, IT, finance, legal, general affairs …), the customer side the employees who use
it. Every pair asks the department's staff ("We …" / 「私たちの部門は…」, plain style) and the employees it
serves ("This department …" / 「この部門は…」, polite style) about the same thing; the form shows the
department's name above its questions, so the wording needs no placeholder.

Four dimensions of two or three 5-point agreement items (N/A allowed, top box [4, 5]); one reverse-keyed
item (``ease_runaround``, effort asked in the negative as in the main instrument); the headline ("helps
me do my job") belongs to no dimension. No outcome items: employees do not renew or recommend a
department.

This module imports nothing from Django so the data migration can use it.
"""

from __future__ import annotations

from typing import Any

INTERNAL_KEY = "kagami-internal"
INTERNAL_VERSION = 1

INSTRUMENT_INTERNAL: dict[str, Any] = {
    "key": INTERNAL_KEY,
    "version": INTERNAL_VERSION,
    "name_en": "Kagami internal services: how the departments we serve see us",
    "name_ja": "Kagami 社内サービス：支援部門は社員からどう見えているか",
    "description_en": (
        "Matched questions for a serving department's staff and the employees who use it: effortless to "
        "use, fast, knows my situation, proactive, explains rules as help, reachable, fair and consistent, "
        "follows through, plus a headline question."
    ),
    "description_ja": (
        "支援部門の社員と、その部門を利用する社員に同じことを尋ねる対の設問です。手間の少なさ、速さ、"
        "状況の理解、先回り、規則を支援として説明すること、連絡のしやすさ、公平さ、最後までやり切ることと、"
        "ヘッドライン設問を含みます。"
    ),
    "dimensions": [
        {
            "key": "ease",
            "name_en": "Effortless to use",
            "name_ja": "利用のしやすさ",
            "description_en": "How little effort it takes employees to get what they need.",
            "description_ja": "社員が必要なものを、どれだけ少ない手間で得られるか。",
            "items": [
                {
                    "key": "ease_effortless",
                    "construct": "Getting what one needs takes little effort",
                    "staff_text_en": "Employees can get what they need from us with little effort.",
                    "staff_text_ja": "社員は、少ない手間で私たちの部門から必要なものを得られている。",
                    "customer_text_en": "Getting what I need from this department takes little effort.",
                    "customer_text_ja": "この部門から必要なものを得るのに、手間はほとんどかかりません。",
                },
                {
                    "key": "ease_reachable",
                    "construct": "Easy to reach the right person",
                    "staff_text_en": "Employees can easily reach the right person in our department.",
                    "staff_text_ja": "社員は、私たちの部門の適切な担当者に簡単に連絡がつく。",
                    "customer_text_en": "I can easily reach the right person in this department.",
                    "customer_text_ja": "この部門では、適切な担当の方に簡単に連絡がつきます。",
                },
                {
                    "key": "ease_runaround",
                    "construct": "Being sent back and forth (reverse-keyed)",
                    "staff_text_en": "Employees are often sent back and forth before we solve their request.",
                    "staff_text_ja": "社員は、依頼が解決するまでに私たちの部門であちこち回されることが多い。",
                    "customer_text_en": "I am often sent back and forth before this department solves my request.",
                    "customer_text_ja": "この部門では、依頼が解決するまでにあちこち回されることがよくあります。",
                    "reverse_keyed": True,
                },
            ],
        },
        {
            "key": "speed",
            "name_en": "Speed and follow-through",
            "name_ja": "速さとやり切る力",
            "description_en": "How fast requests are handled, and whether what was promised happens.",
            "description_ja": "依頼がどれだけ速く処理され、約束したことが実行されるか。",
            "items": [
                {
                    "key": "speed_fast",
                    "construct": "Requests are handled fast",
                    "staff_text_en": "We handle employees' requests fast.",
                    "staff_text_ja": "私たちの部門は、社員からの依頼をすばやく処理している。",
                    "customer_text_en": "This department handles my requests fast.",
                    "customer_text_ja": "この部門は、私の依頼をすばやく処理してくれます。",
                },
                {
                    "key": "speed_follows_through",
                    "construct": "Follows through on what was promised",
                    "staff_text_en": "When we promise employees something, we follow through without being chased.",
                    "staff_text_ja": "私たちの部門は、社員に約束したことを、催促されなくても最後までやり切っている。",
                    "customer_text_en": "When this department promises me something, it follows through without my chasing it.",
                    "customer_text_ja": "この部門は、約束したことを、私が催促しなくても最後までやり切ってくれます。",
                },
            ],
        },
        {
            "key": "understanding",
            "name_en": "Knows my situation",
            "name_ja": "状況の理解",
            "description_en": "Whether the department understands the employee's work and treats everyone fairly.",
            "description_ja": "部門が社員の仕事の事情を理解し、誰に対しても公平に対応しているか。",
            "items": [
                {
                    "key": "understanding_situation",
                    "construct": "Knows the employee's situation",
                    "staff_text_en": "We understand the situation and the work of the employees we serve.",
                    "staff_text_ja": "私たちの部門は、支援する社員の状況や仕事の事情を理解している。",
                    "customer_text_en": "This department understands my situation and my work.",
                    "customer_text_ja": "この部門は、私の状況や仕事の事情を理解してくれています。",
                },
                {
                    "key": "understanding_fair",
                    "construct": "Fair and consistent, whoever asks",
                    "staff_text_en": "We treat every employee's request fairly and consistently, whoever asks.",
                    "staff_text_ja": "私たちの部門は、誰からの依頼でも公平に、一貫した基準で対応している。",
                    "customer_text_en": "This department treats my requests fairly and consistently, as it would anyone's.",
                    "customer_text_ja": "この部門は、誰に対しても同じように、公平で一貫した対応をしてくれます。",
                },
                {
                    "key": "understanding_rules_as_help",
                    "construct": "Explains rules as help, not as specifications",
                    "staff_text_en": "When we explain a rule, we explain how it helps and what the employee can do, not only what is forbidden.",
                    "staff_text_ja": "私たちの部門は、規則を説明するとき、禁止事項だけでなく、その目的と社員にできることを伝えている。",
                    "customer_text_en": "When this department explains a rule, it helps me find what I can do, not only what is forbidden.",
                    "customer_text_ja": "この部門は、規則を説明するとき、禁止事項だけでなく、私にできることを一緒に考えてくれます。",
                },
            ],
        },
        {
            "key": "proactive",
            "name_en": "Proactive",
            "name_ja": "先回り",
            "description_en": "Whether the department acts before employees have to ask.",
            "description_ja": "社員が頼む前に、部門が動いているか。",
            "items": [
                {
                    "key": "proactive_before_asked",
                    "construct": "Tells employees what they need before they ask",
                    "staff_text_en": "We tell employees what they need to know before they have to ask.",
                    "staff_text_ja": "私たちの部門は、社員が尋ねる前に、知っておくべきことを伝えている。",
                    "customer_text_en": "This department tells me what I need to know before I have to ask.",
                    "customer_text_ja": "この部門は、私が尋ねる前に、知っておくべきことを教えてくれます。",
                },
                {
                    "key": "proactive_improves",
                    "construct": "Removes recurring obstacles without being asked",
                    "staff_text_en": "We remove obstacles that keep coming back, without waiting to be asked.",
                    "staff_text_ja": "私たちの部門は、繰り返し起きる障害を、頼まれるのを待たずに取り除いている。",
                    "customer_text_en": "This department removes obstacles that keep coming back, without my having to ask.",
                    "customer_text_ja": "この部門は、繰り返し起きる障害を、頼まなくても取り除いてくれます。",
                },
            ],
        },
    ],
    "headline": {
        "key": "headline_helps_my_job",
        "construct": "The department helps employees do their jobs well (headline)",
        "staff_text_en": "Employees would say our department helps them do their jobs well.",
        "staff_text_ja": "社員は、私たちの部門のおかげで仕事がうまく進むと言うだろう。",
        "customer_text_en": "This department helps me do my job well.",
        "customer_text_ja": "この部門のおかげで、私は仕事をうまく進められています。",
        "is_headline": True,
    },
}


def item_rows_internal() -> list[dict[str, Any]]:
    """Every item as the full set of ItemPair field values, in questionnaire order (the headline last)."""
    pairs = [(dim["key"], item) for dim in INSTRUMENT_INTERNAL["dimensions"] for item in dim["items"]]
    pairs.append((None, INSTRUMENT_INTERNAL["headline"]))
    rows = []
    for index, (dim_key, item) in enumerate(pairs, start=1):
        rows.append({
            "dimension": dim_key, "key": item["key"], "kind": "likert", "construct": item["construct"],
            "staff_text_en": item["staff_text_en"], "staff_text_ja": item["staff_text_ja"],
            "customer_text_en": item["customer_text_en"], "customer_text_ja": item["customer_text_ja"],
            "scale_points": 5, "allow_na": True, "reverse_keyed": bool(item.get("reverse_keyed", False)),
            "topbox_levels": [4, 5], "is_headline": bool(item.get("is_headline", False)), "order": index * 10,
        })
    return rows
