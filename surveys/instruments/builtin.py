# Questionnaire prose: whole sentences on one line are easier to review than wrapped ones.
# ruff: noqa: E501
"""Kagami's built-in instrument ``kagami-core`` v1, as plain data.

Written by the Kagami team on the constructs the field uses (wording is ours).
Every matched pair asks staff ("We …" / 「当社は…」, plain style) and customers
("{company} …" / 「{company}は…」, polite style) about the same thing;
``{company}`` is replaced by ``Organization.company_name(language)`` when shown.

Decisions, so nobody has to guess:

* Seven dimensions of three 5-point agreement items each (allow N/A, top box
  [4, 5]); the seventh, ``experience`` (moments of truth, feel, consistency),
  is the optional extra the product spec welcomes.
* The headline pair ("We deliver a superior experience …", Bain's question)
  belongs to **no dimension**: it is the global judgement the dimensions
  explain, and keeping it out keeps dimension scores and Cronbach's alpha
  about the facets only. It is ordered after the dimension items so the
  specific questions come before the global one.
* One reverse-keyed item: ``ease_effort_excess`` ("Doing business with us
  takes customers more effort than it should"). Effort is naturally asked in
  the negative (the Customer Effort idea), and one reversed item catches
  straight-lining. Its top box [4, 5] applies after recoding (docs/methods.md §0).
* Customer-only outcome items (no staff wording, no dimension): NPS 0–10
  (top box [9, 10]), Customer Effort Score 1–7 agreement, higher = easier
  (top box [6, 7]), overall satisfaction 1–5 ([4, 5]), renewal intent 1–5
  ([4, 5], N/A allowed because not every respondent decides renewals).

This module imports nothing from Django so the data migration can use it.
"""

from __future__ import annotations

from typing import Any

BUILTIN_KEY = "kagami-core"
BUILTIN_VERSION = 1

LIKERT_TOPBOX_5 = [4, 5]

INSTRUMENT: dict[str, Any] = {
    "key": BUILTIN_KEY,
    "version": BUILTIN_VERSION,
    "name_en": "Kagami core: customer focus, inside and out",
    "name_ja": "Kagami 標準：社内と顧客から見た顧客志向",
    "description_en": (
        "Matched staff and customer questions on customer-centric culture, speed, ease, "
        "personalization, proactive support, onboarding and the customer's goals, and the "
        "experience itself, plus the headline question and customer outcome measures."
    ),
    "description_ja": (
        "全社的な顧客志向、スピード、手間の少なさ、個別対応、先回りの支援、オンボーディングと"
        "顧客の目標、体験そのものについて、社員と顧客に同じことを尋ねる対の設問です。"
        "ヘッドライン設問と顧客の成果指標を含みます。"
    ),
    "dimensions": [
        {
            "key": "culture",
            "name_en": "Customer-centric culture",
            "name_ja": "全社的な顧客志向",
            "description_en": "Customer success as a company-wide principle, not one department's job.",
            "description_ja": "顧客の成功を一部門の仕事ではなく、全社の原則としているか。",
            "items": [
                {
                    "key": "culture_everyones_job",
                    "construct": "Customer success is everyone's job, not only the customer-facing teams'",
                    "staff_text_en": (
                        "Everyone here, not only the customer-facing teams, sees customer success as part of "
                        "their job."
                    ),
                    "staff_text_ja": "当社では、顧客対応部門に限らず、全員が顧客の成功を自分の仕事の一部だと考えている。",
                    "customer_text_en": (
                        "Everyone I deal with at {company}, not only my main contact, cares whether I succeed."
                    ),
                    "customer_text_ja": (
                        "{company}では、担当の方に限らず、どの部署の方も私がうまくいくことを気にかけてくださいます。"
                    ),
                },
                {
                    "key": "culture_feedback_acted_on",
                    "construct": "Customer feedback changes decisions and products",
                    "staff_text_en": "Customer feedback regularly changes what we decide and what we build.",
                    "staff_text_ja": "顧客からの意見によって、当社の意思決定や製品・サービスが実際に変わっている。",
                    "customer_text_en": "{company} acts on the feedback I give it.",
                    "customer_text_ja": "{company}は、私が伝えた意見をきちんと改善に生かしてくれています。",
                },
                {
                    "key": "culture_long_term_interest",
                    "construct": "The customer's long-term interest comes before a quick sale",
                    "staff_text_en": "We put the customer's long-term interest ahead of a quick sale.",
                    "staff_text_ja": "当社は、目先の売上よりも顧客の長期的な利益を優先している。",
                    "customer_text_en": "{company} puts my long-term interest ahead of a quick sale.",
                    "customer_text_ja": "{company}は、目先の売上よりも私の長期的な利益を優先してくれています。",
                },
            ],
        },
        {
            "key": "speed",
            "name_en": "Speed",
            "name_ja": "スピード",
            "description_en": "How fast customers get answers, solutions and what was promised.",
            "description_ja": "回答・解決・約束したことが、どれだけ速く顧客に届くか。",
            "items": [
                {
                    "key": "speed_response",
                    "construct": "Quick response to questions and requests",
                    "staff_text_en": "We respond to customers' questions and requests quickly.",
                    "staff_text_ja": "当社は、顧客からの問い合わせや依頼にすばやく対応している。",
                    "customer_text_en": "{company} responds quickly to my questions and requests.",
                    "customer_text_ja": "{company}は、私の問い合わせや依頼にすばやく対応してくれます。",
                },
                {
                    "key": "speed_resolution",
                    "construct": "Problems resolved within the time the customer expects",
                    "staff_text_en": "When a customer has a problem, we resolve it within the time they expect.",
                    "staff_text_ja": "顧客に問題が起きたとき、当社は顧客が期待する期間内に解決している。",
                    "customer_text_en": "When I have a problem, {company} resolves it within the time I expect.",
                    "customer_text_ja": "問題が起きたとき、{company}は私が期待する期間内に解決してくれます。",
                },
                {
                    "key": "speed_deadlines_kept",
                    "construct": "Promised deadlines are kept",
                    "staff_text_en": "We keep the deadlines we promise to customers.",
                    "staff_text_ja": "当社は、顧客に約束した期限を守っている。",
                    "customer_text_en": "{company} keeps the deadlines it promises me.",
                    "customer_text_ja": "{company}は、私に約束した期限を守ってくれます。",
                },
            ],
        },
        {
            "key": "ease",
            "name_en": "Ease and effortlessness",
            "name_ja": "手間の少なさ",
            "description_en": "How little effort it takes the customer to get things done (the Customer Effort idea).",
            "description_ja": "顧客が用件を済ませるのに、どれだけ手間がかからないか（カスタマーエフォートの考え方）。",
            "items": [
                {
                    "key": "ease_little_effort",
                    "construct": "Getting what one needs takes little effort",
                    "staff_text_en": "Customers can get what they need from us with little effort.",
                    "staff_text_ja": "顧客は、少ない手間で当社から必要なものを得られる。",
                    "customer_text_en": "I can get what I need from {company} with little effort.",
                    "customer_text_ja": "{company}からは、少ない手間で必要なものを得られます。",
                },
                {
                    "key": "ease_no_repeating",
                    "construct": "No need to repeat oneself across hand-offs",
                    "staff_text_en": (
                        "Customers rarely have to repeat themselves when they are passed from one of us to another."
                    ),
                    "staff_text_ja": "顧客は、当社の担当者間で引き継がれても、同じ説明を繰り返す必要がほとんどない。",
                    "customer_text_en": (
                        "I rarely have to repeat myself when {company} passes me from one person to another."
                    ),
                    "customer_text_ja": "{company}で担当の方が変わっても、同じ説明を繰り返す必要はほとんどありません。",
                },
                {
                    "key": "ease_effort_excess",
                    "construct": "Doing business takes more effort than it should (reverse-keyed)",
                    "staff_text_en": "Doing business with us takes customers more effort than it should.",
                    "staff_text_ja": "当社との取引には、本来必要な以上の手間が顧客にかかっている。",
                    "customer_text_en": "Doing business with {company} takes more effort than it should.",
                    "customer_text_ja": "{company}との取引には、本来必要な以上の手間がかかります。",
                    "reverse_keyed": True,
                },
            ],
        },
        {
            "key": "personalization",
            "name_en": "Personalization",
            "name_ja": "個別対応",
            "description_en": "Understanding each customer's own situation and acting on it.",
            "description_ja": "顧客それぞれの状況を理解し、それに合わせて対応しているか。",
            "items": [
                {
                    "key": "personal_understands_situation",
                    "construct": "Understanding of the customer's work and situation",
                    "staff_text_en": "We understand each customer's work and the situation they are in.",
                    "staff_text_ja": "当社は、顧客それぞれの仕事や置かれている状況を理解している。",
                    "customer_text_en": "{company} understands my work and the situation I am in.",
                    "customer_text_ja": "{company}は、私の仕事や置かれている状況を理解してくれています。",
                },
                {
                    "key": "personal_tailored_advice",
                    "construct": "Advice and offers tailored to the customer",
                    "staff_text_en": "Our advice and offers are tailored to each customer, not one-size-fits-all.",
                    "staff_text_ja": "当社の提案や助言は、画一的なものではなく、顧客ごとに合わせたものになっている。",
                    "customer_text_en": "{company}'s advice and offers are tailored to me, not one-size-fits-all.",
                    "customer_text_ja": "{company}の提案や助言は、画一的ではなく、私に合わせたものになっています。",
                },
                {
                    "key": "personal_knows_history",
                    "construct": "Whoever the customer talks to knows their history",
                    "staff_text_en": "Whoever a customer talks to here knows that customer's history with us.",
                    "staff_text_ja": "顧客が当社の誰と話しても、その社員は顧客とのこれまでの経緯を把握している。",
                    "customer_text_en": "Whoever I talk to at {company} knows my history with them.",
                    "customer_text_ja": "{company}では、どなたと話しても、これまでの経緯を把握してくださっています。",
                },
            ],
        },
        {
            "key": "proactive",
            "name_en": "Proactive and preventive support",
            "name_ja": "先回りの支援",
            "description_en": "Reaching out before problems happen and preventing them from coming back.",
            "description_ja": "問題が起きる前に働きかけ、再発を防いでいるか。",
            "items": [
                {
                    "key": "proactive_warns_early",
                    "construct": "Contact about potential problems before the customer notices",
                    "staff_text_en": "We contact customers about potential problems before they notice them.",
                    "staff_text_ja": "当社は、顧客が気づく前に、起こりうる問題について連絡している。",
                    "customer_text_en": "{company} contacts me about potential problems before I notice them.",
                    "customer_text_ja": "{company}は、私が気づく前に、起こりうる問題について連絡してくれます。",
                },
                {
                    "key": "proactive_suggests_value",
                    "construct": "Unprompted suggestions to get more value",
                    "staff_text_en": "Without being asked, we suggest ways for customers to get more out of our products.",
                    "staff_text_ja": "当社は、頼まれなくても、顧客が製品をより活用できる方法を提案している。",
                    "customer_text_en": "Without my asking, {company} suggests ways to get more out of its products.",
                    "customer_text_ja": "{company}は、こちらから頼まなくても、製品をより活用できる方法を提案してくれます。",
                },
                {
                    "key": "proactive_root_causes",
                    "construct": "Root causes fixed so problems do not recur",
                    "staff_text_en": "We fix the root causes of customers' problems so they do not happen again.",
                    "staff_text_ja": "当社は、顧客の問題の根本原因を解消し、再発を防いでいる。",
                    "customer_text_en": "{company} fixes the root causes of my problems so they do not happen again.",
                    "customer_text_ja": "{company}は、問題の根本原因を解消し、同じ問題が再び起きないようにしてくれます。",
                },
            ],
        },
        {
            "key": "onboarding",
            "name_en": "Onboarding and the customer's goals",
            "name_ja": "オンボーディングと顧客の目標",
            "description_en": "A good start, and helping customers reach the outcome they bought for.",
            "description_ja": "利用開始を支え、顧客が導入で目指した成果に到達できるよう支援しているか。",
            "items": [
                {
                    "key": "onboarding_smooth_start",
                    "construct": "Help to get up and running smoothly",
                    "staff_text_en": "We help new customers get up and running smoothly.",
                    "staff_text_ja": "当社は、新しい顧客がスムーズに利用を開始できるよう支援している。",
                    "customer_text_en": "{company} helped me get up and running smoothly.",
                    "customer_text_ja": "{company}は、私がスムーズに利用を開始できるよう支援してくれました。",
                },
                {
                    "key": "onboarding_knows_goals",
                    "construct": "Knowing what the customer wants to achieve",
                    "staff_text_en": "We know what each customer wants to achieve with our products.",
                    "staff_text_ja": "当社は、顧客それぞれが当社の製品で何を達成したいのかを把握している。",
                    "customer_text_en": "{company} knows what I want to achieve with its products.",
                    "customer_text_ja": "{company}は、私が製品を使って何を達成したいのかを把握してくれています。",
                },
                {
                    "key": "onboarding_reaches_outcomes",
                    "construct": "Help to reach the results the product was bought for",
                    "staff_text_en": "We help customers reach the results they bought our products for.",
                    "staff_text_ja": "当社は、顧客が導入時に目指した成果を実現できるよう支援している。",
                    "customer_text_en": "{company} helps me reach the results I bought its products for.",
                    "customer_text_ja": "{company}は、私が導入時に目指した成果を実現できるよう支援してくれています。",
                },
            ],
        },
        {
            "key": "experience",
            "name_en": "Experience and moments of truth",
            "name_ja": "体験と真実の瞬間",
            "description_en": "How dealing with the company feels, and how it behaves when it matters most.",
            "description_ja": "やり取りの中でどう感じるか、そして最も大事な場面でどう振る舞うか。",
            "items": [
                {
                    "key": "experience_trouble_builds_trust",
                    "construct": "When something goes wrong, the handling strengthens trust (moment of truth)",
                    "staff_text_en": (
                        "When something goes wrong for a customer, we handle it in a way that strengthens their trust."
                    ),
                    "staff_text_ja": "顧客に何か問題が起きたとき、当社はかえって信頼が深まるような対応をしている。",
                    "customer_text_en": "When something goes wrong, {company} handles it in a way that strengthens my trust.",
                    "customer_text_ja": "何か問題が起きたとき、{company}の対応によって、かえって信頼が深まります。",
                },
                {
                    "key": "experience_feels_valued",
                    "construct": "The customer feels valued (feel)",
                    "staff_text_en": "Customers feel valued in their dealings with us.",
                    "staff_text_ja": "顧客は、当社とのやり取りの中で大切にされていると感じている。",
                    "customer_text_en": "I feel valued in my dealings with {company}.",
                    "customer_text_ja": "{company}とのやり取りの中で、大切にされていると感じます。",
                },
                {
                    "key": "experience_consistent",
                    "construct": "Every touchpoint feels consistent (sense, relate)",
                    "staff_text_en": (
                        "Every contact customers have with us, online or with our people, feels consistent."
                    ),
                    "staff_text_ja": (
                        "ウェブサイト、製品、担当者など、顧客が当社と接するどの場面でも、一貫した体験を提供している。"
                    ),
                    "customer_text_en": "Every contact I have with {company}, online or with its people, feels consistent.",
                    "customer_text_ja": (
                        "ウェブサイト、製品、担当の方など、{company}と接するどの場面でも、一貫した体験が得られます。"
                    ),
                },
            ],
        },
    ],
    # The Bain-style pair; no dimension (see module docstring).
    "headline": {
        "key": "headline_superior_experience",
        "construct": "Delivering a superior experience (the headline question)",
        "staff_text_en": "We deliver a superior experience to our customers.",
        "staff_text_ja": "当社は、顧客に他社より優れた体験を提供している。",
        "customer_text_en": "{company} delivers a superior experience to me.",
        "customer_text_ja": "{company}は、他社よりも優れた体験を私に提供してくれています。",
        "is_headline": True,
    },
    # Customer-only outcome measures; scales are fixed by kind (models.OUTCOME_SCALES).
    "outcomes": [
        {
            "key": "outcome_nps",
            "kind": "nps",
            "construct": "Likelihood to recommend (Net Promoter Score)",
            "customer_text_en": "How likely are you to recommend {company} to a friend or colleague?",
            "customer_text_ja": "{company}を友人や同僚に薦める可能性は、どのくらいありますか。",
            "scale_points": 11,
            "allow_na": False,
            "topbox_levels": [9, 10],
        },
        {
            "key": "outcome_ces",
            "kind": "ces",
            "construct": "Customer effort (agreement; higher means easier)",
            "customer_text_en": "Overall, {company} makes it easy for me to get done what I need.",
            "customer_text_ja": "全体として、{company}は私が用件を済ませやすいようにしてくれています。",
            "scale_points": 7,
            "allow_na": False,
            "topbox_levels": [6, 7],
        },
        {
            "key": "outcome_satisfaction",
            "kind": "csat",
            "construct": "Overall satisfaction",
            "customer_text_en": "Overall, how satisfied are you with {company}?",
            "customer_text_ja": "{company}に対する総合的な満足度をお聞かせください。",
            "scale_points": 5,
            "allow_na": False,
            "topbox_levels": [4, 5],
        },
        {
            "key": "outcome_renewal",
            "kind": "renewal",
            "construct": "Intent to renew or keep using",
            "customer_text_en": "How likely are you to keep using {company} at your next renewal?",
            "customer_text_ja": "次回の契約更新の際に、{company}の利用を継続する可能性はどのくらいありますか。",
            "scale_points": 5,
            "allow_na": True,
            "topbox_levels": [4, 5],
        },
    ],
}


def likert_item_rows() -> list[tuple[str | None, dict[str, Any]]]:
    """(dimension key, item) for every agreement pair, the headline last."""
    rows: list[tuple[str | None, dict[str, Any]]] = [
        (dim["key"], item) for dim in INSTRUMENT["dimensions"] for item in dim["items"]
    ]
    rows.append((None, INSTRUMENT["headline"]))
    return rows


def item_rows() -> list[dict[str, Any]]:
    """Every item as the full set of ItemPair field values, in questionnaire order.

    Each dict has ``dimension`` (a dimension key or None) and the ItemPair
    fields, defaults filled in, ``order`` numbered 10, 20, … so items can be
    inserted later without renumbering.
    """
    rows: list[dict[str, Any]] = []
    for dim_key, item in likert_item_rows():
        rows.append({
            "dimension": dim_key,
            "key": item["key"],
            "kind": "likert",
            "construct": item["construct"],
            "staff_text_en": item["staff_text_en"],
            "staff_text_ja": item["staff_text_ja"],
            "customer_text_en": item["customer_text_en"],
            "customer_text_ja": item["customer_text_ja"],
            "scale_points": 5,
            "allow_na": True,
            "reverse_keyed": bool(item.get("reverse_keyed", False)),
            "topbox_levels": list(LIKERT_TOPBOX_5),
            "is_headline": bool(item.get("is_headline", False)),
        })
    for item in INSTRUMENT["outcomes"]:
        rows.append({
            "dimension": None,
            "key": item["key"],
            "kind": item["kind"],
            "construct": item["construct"],
            "staff_text_en": "",
            "staff_text_ja": "",
            "customer_text_en": item["customer_text_en"],
            "customer_text_ja": item["customer_text_ja"],
            "scale_points": item["scale_points"],
            "allow_na": item["allow_na"],
            "reverse_keyed": False,
            "topbox_levels": list(item["topbox_levels"]),
            "is_headline": False,
        })
    for index, row in enumerate(rows, start=1):
        row["order"] = index * 10
    return rows
