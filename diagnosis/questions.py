"""The quick diagnosis as plain data: three elements, ten areas, fifteen statements, next steps.

The three elements of customer success as a company practice:

* ``philosophy`` — customer success as a company-wide philosophy, led from the top and owned by
  every department;
* ``team`` — a dedicated customer success team with its own mandate and authority;
* ``technology`` — technology and a touch model per customer tier (health scores, data, playbooks).

The ten areas are the principles that practitioners widely cite for customer success, each named
and worded here in Kagami's own terms. Each statement belongs to one element and to one or two
areas; the respondent rates it on a five-point agreement scale (1 = strongly disagree, 5 = strongly
agree). Every area has at least one statement, every element five. ``VERSION`` is stored with each
result: a change of wording or of the item set gets a new version, so stored results stay readable.

``MIRROR_DIMENSIONS`` maps an area to the dimensions of Kagami's built-in instrument that show the
same practice from the customer's side (docs/diagnosis.md, "The mirror comparison").
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "2026.1"
SCALE_MIN = 1
SCALE_MAX = 5
LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Element:
    key: str
    name_ja: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


@dataclass(frozen=True)
class Area:
    key: str
    name_ja: str
    name_en: str
    about_ja: str
    about_en: str
    steps_ja: tuple[str, ...]
    steps_en: tuple[str, ...]

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en

    def about(self, language: str) -> str:
        return self.about_ja if language == "ja" else self.about_en

    def steps(self, language: str) -> list[str]:
        return list(self.steps_ja if language == "ja" else self.steps_en)


@dataclass(frozen=True)
class Item:
    key: str
    element: str
    areas: tuple[str, ...]
    text_ja: str
    text_en: str

    def text(self, language: str) -> str:
        return self.text_ja if language == "ja" else self.text_en


ELEMENTS: tuple[Element, ...] = (
    Element("philosophy", "全社の哲学", "Company-wide philosophy"),
    Element("team", "専任のCSチーム", "Dedicated CS team"),
    Element("technology", "テクノロジーとタッチモデル", "Technology and touch model"),
)

AREAS: tuple[Area, ...] = (
    Area(
        "right_fit", "適合する顧客", "Right-fit customers",
        "成功させられる顧客に売っているか。", "Do we sell to customers we can make successful?",
        ("失注・解約した案件を5件選び、購入時の目的と自社の提供価値のずれを営業とCSで一緒に振り返る。",
         "「成功できる顧客」の条件を1枚にまとめ、商談の審査項目に加える。",
         "営業からCSへの引き継ぎで、顧客の目的と約束した成果を書面で渡すことを必須にする。"),
        ("Pick five lost or churned deals and review, with sales and CS together, where the customer's goal "
         "and what we deliver parted ways.",
         "Write a one-page profile of the customer we can make successful and add it to deal reviews.",
         "Make a written hand-over from sales to CS — the customer's goals and what was promised — "
         "mandatory for every new account."),
    ),
    Area(
        "value", "価値の実現", "Value realised",
        "顧客が買った目的の成果を得ているか。", "Do customers get the value they bought?",
        ("新規顧客が最初の成果を得るまでの日数（Time to Value）を測り、経営会議で毎月確認する。",
         "オンボーディングの最初の30日に、顧客と合意した「最初の成果」を1つ設定する。"),
        ("Measure the days a new customer takes to its first real result (time to value) and review it "
         "monthly at the leadership meeting.",
         "Agree one concrete \"first result\" with each new customer for its first 30 days."),
    ),
    Area(
        "proactive", "先回りの支援", "Proactive engagement",
        "問題が起きる前に動いているか。", "Do we act before problems appear?",
        ("利用低下・担当者交代・更新90日前など、先回りして連絡する契機を3つ決め、担当者を割り当てる。",
         "過去の解約理由から、事前に防げたものを洗い出し、それぞれの予兆を定義する。"),
        ("Choose three triggers for reaching out early — a drop in usage, a new contact person, 90 days "
         "before renewal — and give each an owner.",
         "Go through past churn reasons, mark those that were preventable, and name the early sign of each."),
    ),
    Area(
        "health", "ヘルスの把握", "Health monitoring",
        "顧客の状態を数字で把握しているか。", "Do we know each customer's health in numbers?",
        ("利用状況・成果・関係性の3要素からなる簡単なヘルススコアを作り、全顧客に付ける。",
         "ヘルススコアが下がったときの対応手順（誰が・何日以内に・何をするか）を決める。",
         "四半期ごとに、スコアと実際の解約・更新を照らし合わせ、スコアの重みを見直す。"),
        ("Build a simple health score from three parts — usage, outcomes, relationship — and give every "
         "account one.",
         "Decide what happens when a score falls: who acts, within how many days, and how.",
         "Each quarter, compare the scores with actual churn and renewals and adjust the weights."),
    ),
    Area(
        "company_wide", "全社での責任", "Shared ownership",
        "CSは全部門の仕事になっているか。", "Is customer success every department's job?",
        ("製品・営業・マーケティング・経理の各部門の目標に、顧客の継続または成果の指標を1つずつ入れる。",
         "リスクのある顧客について、部門横断で30分話す場を隔週で設ける。"),
        ("Give product, sales, marketing and finance one goal each that is tied to customer retention or "
         "outcomes.",
         "Hold a 30-minute cross-department review of at-risk accounts every other week."),
    ),
    Area(
        "outcomes", "成果志向", "Outcome focus",
        "顧客の事業成果を基準に動いているか。", "Do we work from the customer's business outcomes?",
        ("主要顧客ごとに、顧客が達成したい事業成果と測り方を文書にし、顧客と共有する。",
         "更新・拡大の商談は、達成した成果の振り返りから始める。"),
        ("For each key account, write down the business outcome the customer wants and how it will be "
         "measured, and share it with them.",
         "Open every renewal or expansion conversation with a review of the outcomes achieved."),
    ),
    Area(
        "data", "データと指標", "Data and metrics",
        "共通の指標で判断しているか。", "Do we decide from shared metrics?",
        ("継続率・拡大率・Time to Value の定義を全社で1つに揃え、同じダッシュボードで見る。",
         "CSの活動と成果の関係を四半期ごとに分析し、効かない活動をやめる。"),
        ("Agree one company-wide definition of retention, expansion and time to value, and look at them on "
         "one dashboard.",
         "Each quarter, analyse which CS activities move outcomes, and stop the ones that do not."),
    ),
    Area(
        "leadership", "経営の主導", "Leadership commitment",
        "経営が顧客の成功を自ら主導しているか。", "Does leadership drive customer success itself?",
        ("経営会議の定例議題に、顧客の継続・成果の指標を売上と同じ重みで加える。",
         "経営層一人ひとりが主要顧客を担当し、四半期に一度は直接話を聞く。",
         "社員と投資家に向けた戦略説明に、顧客の成功を明記する。"),
        ("Put customer retention and outcome figures on the standing agenda of the leadership meeting, "
         "given the same weight as sales.",
         "Have each executive sponsor a few key accounts and hear from them directly every quarter.",
         "State customer success explicitly in the strategy you present to employees and investors."),
    ),
    Area(
        "improvement", "体験の継続改善", "Continuous improvement",
        "顧客の声で体験を改善し続けているか。", "Do customers' voices keep improving their experience?",
        ("顧客の声を集める窓口を1つにまとめ、毎月、改善する項目を3つ選んで担当を決める。",
         "改善した内容を顧客に伝える（「いただいた声で変えたこと」）仕組みを作る。"),
        ("Bring customer feedback into one place and pick three improvements with owners every month.",
         "Tell customers what changed because of their feedback (\"you asked, we changed\")."),
    ),
    Area(
        "scale", "顧客層別の関わり方", "Tiered touch model",
        "顧客層ごとに関わり方を設計しているか。", "Is engagement designed per customer tier?",
        ("顧客を価値と複雑さで3層に分け、ハイタッチ・ロータッチ・テックタッチの担当範囲を決める。",
         "テックタッチ層向けに、利用開始と更新前の自動メールとセルフサービス資料を用意する。"),
        ("Split customers into three tiers by value and complexity, and decide what high-touch, low-touch "
         "and tech-touch cover.",
         "For the tech-touch tier, set up automated onboarding and pre-renewal messages and self-service "
         "material."),
    ),
)

ITEMS: tuple[Item, ...] = (
    # The company-wide philosophy.
    Item("q01", "philosophy", ("leadership",),
         "経営陣は、顧客の成果（継続率や提供した価値）を、新規の売上と同じ頻度・同じ熱量で確認している。",
         "Our top leadership reviews customer outcomes (retention, value delivered) as often and as closely as "
         "it reviews new sales."),
    Item("q02", "philosophy", ("company_wide",),
         "製品・営業・マーケティング・経理など、CSチーム以外の部門も顧客の成功に結びついた目標を持っている。",
         "Product, sales, marketing and finance each carry goals tied to customers' success, not only the "
         "customer success team."),
    Item("q03", "philosophy", ("right_fit",),
         "顧客の目的が自社で実現できるものと合わない場合、私たちは商談を断るか、内容を見直す。",
         "We decline or reshape a deal when the prospect's goals do not fit what we can deliver."),
    Item("q04", "philosophy", ("right_fit", "company_wide"),
         "営業は、新しい顧客の目的と約束した成果を、書面でCSチームに引き継いでいる。",
         "Sales hands each new customer's goals and the outcomes promised to it over to the customer success "
         "team in writing."),
    Item("q05", "philosophy", ("improvement",),
         "顧客から聞いた声は、製品や業務の具体的な変更につながり、その結果を顧客に伝えている。",
         "What customers tell us leads to concrete changes in product or process, and we tell them what "
         "changed."),
    # The dedicated team.
    Item("q06", "team", ("outcomes",),
         "サポートや営業とは別に、顧客の成果に責任を持つ専任のカスタマーサクセスチームがある。",
         "A dedicated customer success team owns customers' outcomes, separate from support and sales."),
    Item("q07", "team", ("company_wide", "leadership"),
         "解約の恐れがある顧客について、CSチームは数日以内に製品部門や経営陣の判断を得られる。",
         "When an account is at risk, the customer success team can get decisions from product and leadership "
         "within days."),
    Item("q08", "team", ("value",),
         "新しい顧客は、合意して計測している期間内に、最初の意味ある成果を得ている。",
         "New customers reach a first meaningful result within an agreed time that we track."),
    Item("q09", "team", ("proactive",),
         "利用開始時、利用が落ちたとき、更新のかなり前など、問題が表面化する前に顧客へ連絡している。",
         "We contact customers before problems surface: at the start, when usage drops, and well before "
         "renewal."),
    Item("q10", "team", ("outcomes", "value"),
         "顧客ごとに成功の目標を文書にしており、更新の話し合いは達成した成果から始まる。",
         "Each customer has written success goals, and renewal conversations start from what the customer "
         "has achieved."),
    # Technology and the touch model.
    Item("q11", "technology", ("health",),
         "すべての顧客に、利用状況・成果・関係性をもとにした、チームが信頼するヘルススコアがある。",
         "Every account has a health score, built from usage, outcomes and relationship signals, that the team "
         "trusts."),
    Item("q12", "technology", ("health", "proactive"),
         "ヘルススコアが下がると、担当者と期限の決まった対応が自動的に始まる。",
         "A falling health score starts a defined action with an owner and a deadline."),
    Item("q13", "technology", ("scale",),
         "顧客層ごとに、ハイタッチ・ロータッチ・テックタッチの関わり方と手順を意図して設計している。",
         "Each customer tier is served by a deliberately chosen touch model (high-touch, low-touch, tech-touch) "
         "with its own playbook."),
    Item("q14", "technology", ("data",),
         "継続率・拡大率・Time to Value は部門をまたいで同じ定義で測られ、毎月確認されている。",
         "Retention, expansion and time to value are measured the same way across teams and reviewed every "
         "month."),
    Item("q15", "technology", ("data", "improvement"),
         "カスタマージャーニーの変更は試して効果を測り、成果が上がったものだけを残している。",
         "We test changes to the customer journey and keep only those that measurably improve outcomes."),
)

ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
ELEMENT_KEYS: tuple[str, ...] = tuple(element.key for element in ELEMENTS)
AREA_KEYS: tuple[str, ...] = tuple(area.key for area in AREAS)
ELEMENTS_BY_KEY = {element.key: element for element in ELEMENTS}
AREAS_BY_KEY = {area.key: area for area in AREAS}

# The diagnosis area → the built-in instrument's dimensions (surveys/instruments/builtin.py) that show
# the same practice as customers (and staff) experience it. Only these dimension keys are looked up in a
# wave; a wave whose instrument has none of them shows no comparison for the area.
MIRROR_DIMENSIONS: dict[str, tuple[str, ...]] = {
    # Turning down a poor fit shows to customers as "puts my long-term interest ahead of a quick sale".
    "right_fit": ("culture",),
    # Value realised: help to get started and to reach the results the product was bought for.
    "value": ("onboarding",),
    "proactive": ("proactive",),
    # A health score is internal; what customers see of it is being warned before they notice a problem.
    "health": ("proactive",),
    # Everyone's job, and customers not having to repeat themselves from one department to the next.
    "company_wide": ("culture", "ease"),
    # Knowing what each customer wants to achieve and helping them reach it.
    "outcomes": ("onboarding",),
    # Shared metrics are an internal practice that customers cannot see: no dimension.
    "data": (),
    # Leadership shows in the culture: feedback acted on, long-term interest first.
    "leadership": ("culture",),
    # Improvement shows in the experience: trouble handled well, feeling valued, consistency.
    "improvement": ("experience",),
    # A deliberate touch model shows as advice tailored to the customer and as little effort to get help.
    "scale": ("personalization", "ease"),
}
