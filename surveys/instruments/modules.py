# Questionnaire prose: whole sentences on one line are easier to review than wrapped ones.
# ruff: noqa: E501
"""Optional module sets an organisation may add to its own instrument version, as plain data.

``experience_modules``: Schmitt's five strategic experience modules (sense, feel,
think, act, relate), each a dimension of matched 5-point agreement pairs written
by the Kagami team, in the same voice as the built-in instrument
(:mod:`surveys.instruments.builtin`): staff "We …" / 「当社は…」 (plain style),
customers "{company} …" / 「{company}は…」 (polite style).

Decisions, so nobody has to guess:

* Five dimensions of three pairs each (allow N/A, top box [4, 5]): three items
  keep Cronbach's alpha meaningful per dimension, and 15 extra questions are
  as many as an optional block should add to a questionnaire.
* No reverse-keyed item. The modules describe what an experience *offers*
  (appeal to the senses, feelings, thought, action, belonging); a negated
  wording ("does not make me think") reads as a double negative in Japanese,
  and the core instrument already carries the straight-lining check
  (``ease_effort_excess``).
* Every dimension carries ``module = "experience_modules"``, so the output can
  group and label it, and the overall customer-focus score leaves it out: adding
  a module never moves the core's overall score (docs/methods.md §3.1).
* A module is added to an editable organisation version only
  (``surveys.services.instrument_add_module``); waves of a frozen version never
  change.

This module imports nothing from Django.
"""

from __future__ import annotations

from typing import Any

EXPERIENCE_MODULES = "experience_modules"

MODULE_LABELS: dict[str, dict[str, str]] = {
    EXPERIENCE_MODULES: {"en": "Experience modules", "ja": "経験価値モジュール"},
}

MODULES: dict[str, list[dict[str, Any]]] = {
    EXPERIENCE_MODULES: [
        {
            "key": "xm_sense",
            "name_en": "Sense (sensory experience)",
            "name_ja": "SENSE（感覚的経験）",
            "description_en": "What customers see, hear and touch: product, documents, places and screens.",
            "description_ja": "製品、資料、店舗や画面など、顧客が見て、聞いて、触れるもの。",
            "items": [
                {
                    "key": "xm_sense_appealing",
                    "construct": "Products, screens and materials are pleasant to see and use (sense)",
                    "staff_text_en": "Our products, screens and materials are pleasant for customers to look at and use.",
                    "staff_text_ja": "当社の製品、画面、資料は、顧客にとって見た目も使い心地も好ましいものになっている。",
                    "customer_text_en": "{company}'s products, screens and materials are pleasant to look at and use.",
                    "customer_text_ja": "{company}の製品、画面、資料は、見た目も使い心地も好ましいものです。",
                },
                {
                    "key": "xm_sense_recognisable",
                    "construct": "A look and feel one recognises at once (sense)",
                    "staff_text_en": "Customers recognise our look and feel at once, wherever they meet us.",
                    "staff_text_ja": "顧客は、どこで当社に接しても、当社らしい見た目や雰囲気をすぐに見分けられる。",
                    "customer_text_en": "Wherever I meet {company}, I recognise its look and feel at once.",
                    "customer_text_ja": "どこで接しても、{company}らしい見た目や雰囲気だとすぐにわかります。",
                },
                {
                    "key": "xm_sense_care_in_detail",
                    "construct": "Care shows in the details (sense)",
                    "staff_text_en": "Customers can see the care we put into the details of what we deliver.",
                    "staff_text_ja": "顧客は、当社が提供するものの細部にまで行き届いた配慮を感じ取れる。",
                    "customer_text_en": "I can see the care {company} puts into the details of what it delivers.",
                    "customer_text_ja": "{company}が提供するものには、細部まで配慮が行き届いていると感じます。",
                },
            ],
        },
        {
            "key": "xm_feel",
            "name_en": "Feel (affective experience)",
            "name_ja": "FEEL（情緒的経験）",
            "description_en": "The moods and feelings dealing with the company leaves behind.",
            "description_ja": "やり取りの後に残る気分や感情。",
            "items": [
                {
                    "key": "xm_feel_good_after",
                    "construct": "Customers come away from contacts in a good mood (feel)",
                    "staff_text_en": "Customers come away from their contacts with us in a good mood.",
                    "staff_text_ja": "顧客は、当社とのやり取りの後、良い気分になっている。",
                    "customer_text_en": "I come away from my contacts with {company} in a good mood.",
                    "customer_text_ja": "{company}とやり取りした後は、良い気分になります。",
                },
                {
                    "key": "xm_feel_at_ease",
                    "construct": "Customers feel at ease relying on the company (feel)",
                    "staff_text_en": "Customers feel at ease relying on us.",
                    "staff_text_ja": "顧客は、安心して当社に任せられると感じている。",
                    "customer_text_en": "I feel at ease relying on {company}.",
                    "customer_text_ja": "{company}には、安心して任せられると感じます。",
                },
                {
                    "key": "xm_feel_enjoy",
                    "construct": "Customers enjoy working with the company (feel)",
                    "staff_text_en": "Customers enjoy working with us.",
                    "staff_text_ja": "顧客は、当社と一緒に仕事をすることを楽しんでいる。",
                    "customer_text_en": "I enjoy working with {company}.",
                    "customer_text_ja": "{company}と一緒に仕事をするのは楽しいです。",
                },
            ],
        },
        {
            "key": "xm_think",
            "name_en": "Think (creative, cognitive experience)",
            "name_ja": "THINK（知的経験）",
            "description_en": "Whether the company makes customers think, learn and see their work anew.",
            "description_ja": "顧客が考え、学び、自分の仕事を新しい目で見るきっかけになっているか。",
            "items": [
                {
                    "key": "xm_think_new_ideas",
                    "construct": "Customers get ideas they would not have had alone (think)",
                    "staff_text_en": "We give customers ideas they would not have had on their own.",
                    "staff_text_ja": "当社は、顧客が自分だけでは思いつかなかったような考えを提供している。",
                    "customer_text_en": "{company} gives me ideas I would not have had on my own.",
                    "customer_text_ja": "{company}は、自分だけでは思いつかなかったような考えを与えてくれます。",
                },
                {
                    "key": "xm_think_learn",
                    "construct": "Customers learn something useful (think)",
                    "staff_text_en": "Customers learn something useful from their dealings with us.",
                    "staff_text_ja": "顧客は、当社とのやり取りから役に立つことを学んでいる。",
                    "customer_text_en": "I learn something useful from my dealings with {company}.",
                    "customer_text_ja": "{company}とのやり取りから、役に立つことを学べます。",
                },
                {
                    "key": "xm_think_rethink",
                    "construct": "The company prompts customers to rethink how they work (think)",
                    "staff_text_en": "We prompt customers to rethink how they do their work.",
                    "staff_text_ja": "当社は、顧客が仕事の進め方を見直すきっかけをつくっている。",
                    "customer_text_en": "{company} prompts me to rethink how I do my work.",
                    "customer_text_ja": "{company}は、仕事の進め方を見直すきっかけをくれます。",
                },
            ],
        },
        {
            "key": "xm_act",
            "name_en": "Act (physical, behavioural experience)",
            "name_ja": "ACT（行動的経験）",
            "description_en": "Whether the company changes what customers do and helps them act.",
            "description_ja": "顧客の行動を変え、実際に動くことを後押ししているか。",
            "items": [
                {
                    "key": "xm_act_new_habits",
                    "construct": "Customers take up new, better ways of working (act)",
                    "staff_text_en": "Customers take up new and better ways of working because of us.",
                    "staff_text_ja": "顧客は、当社がきっかけで、より良い新しい仕事のやり方を取り入れている。",
                    "customer_text_en": "Because of {company}, I have taken up new and better ways of working.",
                    "customer_text_ja": "{company}がきっかけで、より良い新しい仕事のやり方を取り入れました。",
                },
                {
                    "key": "xm_act_easy_to_start",
                    "construct": "The next step is always clear and easy to take (act)",
                    "staff_text_en": "We make the next step clear and easy for customers to take.",
                    "staff_text_ja": "当社は、顧客が次に何をすればよいかを明確にし、踏み出しやすくしている。",
                    "customer_text_en": "{company} makes the next step clear and easy for me to take.",
                    "customer_text_ja": "{company}は、次に何をすればよいかを明確にし、踏み出しやすくしてくれます。",
                },
                {
                    "key": "xm_act_more_done",
                    "construct": "Customers get more done with the company (act)",
                    "staff_text_en": "Customers get more done with us than they could without us.",
                    "staff_text_ja": "顧客は、当社と組むことで、単独よりも多くのことを成し遂げている。",
                    "customer_text_en": "With {company}, I get more done than I could without it.",
                    "customer_text_ja": "{company}と組むことで、単独よりも多くのことを成し遂げられます。",
                },
            ],
        },
        {
            "key": "xm_relate",
            "name_en": "Relate (social-identity experience)",
            "name_ja": "RELATE（関係的経験）",
            "description_en": "Belonging: to a community of customers, and to what the company stands for.",
            "description_ja": "顧客のコミュニティや、会社が大切にする価値への帰属感。",
            "items": [
                {
                    "key": "xm_relate_community",
                    "construct": "Customers feel part of a community around the company (relate)",
                    "staff_text_en": "Our customers feel part of a community of people who use what we offer.",
                    "staff_text_ja": "当社の顧客は、当社の製品・サービスを使う人々のコミュニティの一員だと感じている。",
                    "customer_text_en": "I feel part of a community of people who use what {company} offers.",
                    "customer_text_ja": "{company}の製品・サービスを使う人々のコミュニティの一員だと感じます。",
                },
                {
                    "key": "xm_relate_values",
                    "construct": "Customers share what the company stands for (relate)",
                    "staff_text_en": "Customers share the values we stand for.",
                    "staff_text_ja": "顧客は、当社が大切にしている価値観に共感している。",
                    "customer_text_en": "I share the values {company} stands for.",
                    "customer_text_ja": "{company}が大切にしている価値観に共感しています。",
                },
                {
                    "key": "xm_relate_proud",
                    "construct": "Customers are glad to be known as customers (relate)",
                    "staff_text_en": "Customers are glad to tell others that they work with us.",
                    "staff_text_ja": "顧客は、当社と取引していることを他の人に喜んで伝えている。",
                    "customer_text_en": "I am glad to tell others that I work with {company}.",
                    "customer_text_ja": "{company}と取引していることを、喜んで人に伝えています。",
                },
            ],
        },
    ],
}


MODULE_CHOICES: list[str] = sorted(MODULES)  # the API's one enum of module names (ENUM_NAME_OVERRIDES)


def module_label(module: str, language: str) -> str:
    """The module's name in ``language`` ("ja" or else English); the slug itself for an unknown one."""
    labels = MODULE_LABELS.get(module)
    if not labels:
        return module
    return labels["ja"] if language == "ja" else labels["en"]


def module_rows(module: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(dimensions, items) of a module as Dimension and ItemPair field values, in questionnaire order.

    Items carry ``dimension`` (the dimension key); orders are relative (0, 1, …) and set by the caller.
    Raises KeyError for an unknown module.
    """
    dimensions, items = [], []
    for dim in MODULES[module]:
        dimensions.append({"key": dim["key"], "module": module, "name_en": dim["name_en"],
                           "name_ja": dim["name_ja"], "description_en": dim["description_en"],
                           "description_ja": dim["description_ja"]})
        for item in dim["items"]:
            items.append({
                "dimension": dim["key"], "key": item["key"], "kind": "likert", "construct": item["construct"],
                "staff_text_en": item["staff_text_en"], "staff_text_ja": item["staff_text_ja"],
                "customer_text_en": item["customer_text_en"], "customer_text_ja": item["customer_text_ja"],
                "scale_points": 5, "allow_na": True, "reverse_keyed": False, "topbox_levels": [4, 5],
                "is_headline": False,
            })
    return dimensions, items
