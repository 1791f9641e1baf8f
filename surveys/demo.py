"""The demo organization: realistic synthetic data for trying Kagami end to end.

``demo_load`` builds "Kagami Demo" (slug ``demo``): three users, the built-in
instrument cloned into the organization, a closed wave "2026 H1" and an open
wave "2026 H2", 60 customer accounts (some churned), invitations (some used)
and staff and customer responses. It is idempotent (an existing demo is left
alone) and deterministic for a given seed.

The synthetic answers follow a latent model chosen to look like the field:
staff are sure the company is customer-centric (≈ 80 % top box on the
headline) while few customers agree (≈ 10–25 %, Bain 2005); ease and
experience are aligned; onboarding is the one hidden strength (customers rate
it higher than staff); proactive support is the largest blind spot in H1 and
narrows in H2; lower perception goes with churn; Marketing has only four staff
respondents, so its cells are suppressed at the anonymity threshold of 5.

Why one file: it is the demo's data (segments and their labels, the latent means and effects, the
comments) and the generator that draws from exactly those numbers; read side by side, each number
explains the pattern it makes in the reports, and nothing outside uses the generator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from surveys import packing, releases, services
from surveys.bulk import BulkResponse, invitation_uses_bulk_load, invitations_bulk_load, responses_bulk_load
from surveys.demo_internal import INTERNAL_SLUG, internal_load
from surveys.demo_journey import PILOT_SLUG, pilot_load
from surveys.instruments.loader import builtin_instrument
from surveys.models import (
    TENURE_LABELS,
    TOUCH_MODEL_LABELS,
    Answer,
    Channel,
    CustomerAccount,
    Instrument,
    Invitation,
    InvitationUse,
    ItemPair,
    Language,
    Membership,
    Organization,
    Role,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
    hash_token,
)

DEMO_SLUG = "demo"
DEMO_PASSWORD = "kagami-demo-2026"
DEMO_USERS: list[tuple[str, str, bool]] = [  # username, role, Django superuser (for /admin/)
    ("demo-admin", Role.ADMIN, True),
    ("demo-analyst", Role.ANALYST, False),
    ("demo-exec", Role.EXECUTIVE, False),
]
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class DemoWave:
    name: str
    slug: str
    opens_on: date
    closes_on: date
    collected_until: date  # last day with responses (the open wave is still collecting)


DEMO_WAVES = [
    DemoWave("2026 H1", "demo-2026-h1", date(2026, 5, 11), date(2026, 6, 5), date(2026, 6, 5)),
    DemoWave("2026 H2", "demo-2026-h2", date(2026, 11, 2), date(2026, 12, 11), date(2026, 11, 20)),
]

DEPARTMENTS = ["Sales", "Customer Success", "Support", "Engineering", "Marketing"]
DEPARTMENT_SHARES = {"Sales": 0.30, "Customer Success": 0.25, "Support": 0.25, "Engineering": 0.20}
SMALL_DEPARTMENT = "Marketing"  # 3 invited answers + 1 anonymous: below the threshold of 5
STAFF_ROLES = ["Executive", "Manager", "Individual contributor"]
TENURES = ["<1y", "1-3y", "3-5y", "5y+"]
TIERS = ["Enterprise", "Mid-market", "SMB"]
PLANS = ["Starter", "Business", "Enterprise"]
REGIONS = ["Kanto", "Kansai", "Chubu", "Kyushu", "APAC"]

# Japanese and English labels of the choices (surveys/respondents.py): respondents see these, the key is stored.
DEPARTMENT_LABELS = {"Sales": "営業", "Customer Success": "カスタマーサクセス", "Support": "サポート",
                     "Engineering": "開発", "Marketing": "マーケティング"}
STAFF_ROLE_LABELS = {"Executive": "経営層", "Manager": "マネージャー", "Individual contributor": "メンバー"}
TIER_LABELS = {"Enterprise": "大企業", "Mid-market": "中堅企業", "SMB": "中小企業"}
PLAN_LABELS = {"Starter": "スタータープラン", "Business": "ビジネスプラン", "Enterprise": "エンタープライズプラン"}
REGION_LABELS = {"Kanto": "関東", "Kansai": "関西", "Chubu": "中部", "Kyushu": "九州", "APAC": "アジア太平洋"}


def _labels(japanese: dict[str, str]) -> dict[str, dict[str, str]]:
    return {choice: {"ja": label, "en": choice} for choice, label in japanese.items()}


STAFF_SEGMENT_FIELDS = [
    {"key": "department", "label_en": "Department", "label_ja": "部署", "choices": DEPARTMENTS,
     "choice_labels": _labels(DEPARTMENT_LABELS), "ask_anonymous": True},
    {"key": "role", "label_en": "Role", "label_ja": "職位", "choices": STAFF_ROLES,
     "choice_labels": _labels(STAFF_ROLE_LABELS), "ask_anonymous": True},
    {"key": "tenure", "label_en": "Tenure", "label_ja": "勤続年数", "choices": TENURES,
     "choice_labels": TENURE_LABELS, "ask_anonymous": True},
]
# The demo's tiers are company sizes and its plans what a customer buys: things customers know, so its
# customer anonymous link asks them (the admin's choice; by default tier and plan are not asked). The
# touch model, how the company serves an account, is left to the accounts.
CUSTOMER_SEGMENT_FIELDS = [
    {"key": "tier", "label_en": "Tier", "label_ja": "ティア", "choices": TIERS,
     "choice_labels": _labels(TIER_LABELS), "ask_anonymous": True},
    {"key": "touch_model", "label_en": "Touch model", "label_ja": "タッチモデル", "choices": ["high", "low", "tech"],
     "choice_labels": TOUCH_MODEL_LABELS, "ask_anonymous": False},
    {"key": "plan", "label_en": "Plan", "label_ja": "プラン", "choices": PLANS,
     "choice_labels": _labels(PLAN_LABELS), "ask_anonymous": True},
    {"key": "region", "label_en": "Region", "label_ja": "地域", "choices": REGIONS,
     "choice_labels": _labels(REGION_LABELS), "ask_anonymous": True},
]

HEADLINE = "headline"
# Latent means (favourable direction, 5-point scale) per wave, side and dimension.
_STAFF = {"culture": 4.05, "speed": 3.85, "ease": 3.45, "personalization": 3.85, "proactive": 3.95,
          "onboarding": 3.2, "experience": 3.6, HEADLINE: 4.1}
_CUSTOMER = {"culture": 3.0, "speed": 3.2, "ease": 3.4, "personalization": 3.05, "proactive": 2.6,
             "onboarding": 3.9, "experience": 3.55, HEADLINE: 2.65}
MEANS: list[dict[str, dict[str, float]]] = [
    {Side.STAFF: _STAFF, Side.CUSTOMER: _CUSTOMER},
    # H2: the proactive-support programme closes much of that gap; the rest barely moves.
    {Side.STAFF: {**_STAFF, "proactive": 3.85, "culture": 4.0},
     Side.CUSTOMER: {**_CUSTOMER, "proactive": 3.3, "speed": 3.25}},
]
HALO_SD = 0.45  # a respondent's general leniency
NOISE_SD = 0.65  # item-level noise
ACCOUNT_SD = 0.5  # how an account as a whole feels about the company
DEPARTMENT_EFFECT = {"Sales": 0.2, "Customer Success": 0.0, "Support": -0.3, "Engineering": 0.1, "Marketing": 0.25}
TENURE_EFFECT = {"<1y": 0.15, "1-3y": 0.05, "3-5y": 0.0, "5y+": -0.1}
TIER_EFFECT = {"Enterprise": 0.1, "Mid-market": 0.0, "SMB": -0.15}
ITEM_OFFSETS = [0.1, 0.0, -0.1]

COMMENTS: dict[tuple[str, str, str], list[str]] = {
    (Side.CUSTOMER, "ja", "neg"): [
        "問い合わせの返信に数日かかることがあり、業務が止まってしまいます。",
        "担当者が変わるたびに同じ説明をしなければなりません。",
        "障害の連絡がこちらが気づいた後に届くことが多いです。",
        "契約更新の時期だけ連絡が来る印象です。",
        "提案が当社の状況に合っていないと感じることがあります。",
    ],
    (Side.CUSTOMER, "ja", "mid"): [
        "導入時のサポートはとても丁寧でした。その後の連絡は少なめです。",
        "製品には満足していますが、サポートの対応速度にはばらつきがあります。",
        "定期的な活用状況のレビューがあると助かります。",
    ],
    (Side.CUSTOMER, "ja", "pos"): [
        "オンボーディングの担当の方のおかげで、予定より早く社内展開できました。",
        "いつも親身に相談に乗っていただき、感謝しています。",
        "目標の達成に向けて一緒に考えてくださるので心強いです。",
    ],
    (Side.CUSTOMER, "en", "neg"): [
        "Support replies often take several days, which blocks our team.",
        "I keep explaining the same issue to different people.",
        "We usually find out about incidents before you tell us.",
        "The only proactive contact we get is around renewal time.",
    ],
    (Side.CUSTOMER, "en", "mid"): [
        "Onboarding was excellent; since then we hear from you rarely.",
        "Good product, but support quality depends on who picks up the ticket.",
        "A quarterly review of how we use the product would help.",
    ],
    (Side.CUSTOMER, "en", "pos"): [
        "Our onboarding manager got us live ahead of schedule.",
        "The team genuinely cares about our goals.",
        "Always helpful and quick to respond.",
    ],
    (Side.STAFF, "ja", "neg"): [
        "部署間の連携が弱く、お客様の情報が共有されていないと感じます。",
        "問い合わせが多すぎて、先回りの対応まで手が回りません。",
        "顧客の声が製品の優先順位に反映されるまで時間がかかりすぎます。",
    ],
    (Side.STAFF, "ja", "mid"): [
        "顧客志向は浸透していると思いますが、部署によって差があります。",
        "オンボーディング後のフォロー体制を強化すべきだと思います。",
    ],
    (Side.STAFF, "ja", "pos"): [
        "当社は業界で一番お客様のことを考えている会社だと思います。",
        "お客様からの感謝の声が社内でよく共有されています。",
        "全員がお客様の成功を意識して働いています。",
    ],
    (Side.STAFF, "en", "neg"): [
        "Teams do not share customer context, so customers repeat themselves.",
        "We are too busy firefighting to be proactive.",
    ],
    (Side.STAFF, "en", "mid"): [
        "Customer focus is strong in CS, less so elsewhere.",
        "We should follow up more after onboarding.",
    ],
    (Side.STAFF, "en", "pos"): [
        "We are the most customer-focused company in our market.",
        "Everyone here cares about customer outcomes.",
    ],
}
ACCOUNT_WORDS = (
    ["Aozora", "Sakura", "Hikari", "Midori", "Kaede", "Tsubasa", "Hoshino", "Minato", "Yamato", "Fujimi",
     "Shirakawa", "Asahi"],
    ["Logistics", "Foods", "Systems", "Medical", "Retail", "Works", "Finance", "Energy", "Design", "Motors"],
)
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN_NAMES = ["健", "美咲", "翔太", "陽子", "大輔", "真由美", "拓也", "彩", "誠", "恵", "直樹", "由紀"]
ACCOUNT_COUNT = 60


@dataclass
class DemoSummary:
    """What ``demo_load`` did and what to print."""

    created: bool
    organization: Organization
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def demo_token(*, wave_slug: str, side: str, n: int) -> str:
    """The n-th demo invitation token of a wave and side: HMAC of SECRET_KEY, so links can be printed again.

    Only the hash is stored, like any token; deriving it lets every run print a
    link that works without keeping the token anywhere.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), f"demo-{wave_slug}-{side}-{n}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --------------------------------------------------------------------------- entry points


BULK_FROM = 20_000  # responses in all; from here on PostgreSQL loads through COPY (surveys.bulk)


def demo_load(*, seed: int = 42, customers: int = 400, staff: int | None = None, reset: bool = False,
              progress: bool = False, bulk: bool | None = None, journey_pilot: bool = False,
              internal_services: bool = False) -> DemoSummary:
    """Create the demo organization unless it exists, then return what to print.

    ``customers`` is the number of customer responses per wave; ``staff``
    defaults to 30 % of it (120 for 400). With ``reset`` an existing demo is
    deleted first. ``bulk`` (default: from BULK_FROM responses on) writes
    responses, answers and invitations with PostgreSQL COPY; the data are the
    same. ``journey_pilot`` adds the third wave of surveys/demo_journey.py (v2 with touchpoints and the
    experience modules; `make run` asks for it) unless it is there; the two seeded waves never change with it.
    ``internal_services`` likewise adds the internal-services wave of surveys/demo_internal.py (HR, IT, Finance
    and General affairs rated by the employees; `make run` asks for it too).
    Raises ValueError for counts that cannot make a demo.
    """
    if customers < 10:
        raise ValueError("--responses must be at least 10.")
    staff = staff if staff is not None else max(12, round(customers * 0.3))
    if staff < 12:
        raise ValueError("The demo needs at least 12 staff responses per wave.")
    if reset:
        demo_delete()
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    created = org is None or not org.waves.filter(slug=DEMO_WAVES[-1].slug).exists()
    if org is None or created:
        with transaction.atomic():
            if bulk is None:
                bulk = 2 * (customers + staff) >= BULK_FROM
            org = _Generator(seed=seed, customers=customers, staff=staff, progress=progress, bulk=bulk).run()
            for wave in org.waves.all():
                releases.publish_due(wave)  # the demo's results are published, as after a first read
    if journey_pilot and not org.waves.filter(slug=PILOT_SLUG).exists():
        with transaction.atomic():
            pilot = pilot_load(org, staff_segment_fields=STAFF_SEGMENT_FIELDS,
                               customer_segment_fields=CUSTOMER_SEGMENT_FIELDS)
            releases.publish_due(pilot)
    if internal_services and not org.waves.filter(slug=INTERNAL_SLUG).exists():
        with transaction.atomic():
            releases.publish_due(internal_load(org))
    summary = DemoSummary(created=created, organization=org, counts=demo_counts(org))
    summary.lines = _print_lines(org)
    return summary


@transaction.atomic
def demo_delete() -> None:
    """Remove the demo organization, everything in it, and the demo users."""
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    if org is not None:
        # Answers (in their responses' rows) protect items and waves protect instruments: delete leaves first.
        SurveyResponse.objects.filter(wave__organization=org).delete()
        Invitation.objects.filter(wave__organization=org).delete()
        Wave.objects.filter(organization=org).delete()
        Instrument.objects.filter(organization=org).delete()
        org.delete()
    get_user_model().objects.filter(username__in=[u for u, _, _ in DEMO_USERS]).delete()


def demo_counts(org: Organization) -> dict[str, int]:
    counts: dict[str, int] = {
        "accounts": org.accounts.count(),
        "accounts_churned": org.accounts.filter(status=CustomerAccount.Status.CHURNED).count(),
        "invitations": Invitation.objects.filter(wave__organization=org).count(),
        "invitations_used": InvitationUse.objects.filter(invitation__wave__organization=org).count(),
        "answers": Answer.objects.filter(response__wave__organization=org).count(),
    }
    for wave in org.waves.order_by("opens_on"):
        for side in (Side.STAFF, Side.CUSTOMER):
            counts[f"{wave.slug}:{side}"] = wave.responses.filter(side=side).count()
    return counts


# --------------------------------------------------------------------------- what gets printed


def demo_invitation_token(*, wave: Wave, side: str) -> str:
    """The first demo token of ``wave``/``side`` whose invitation is unused, creating it if needed."""
    existing = Invitation.objects.filter(wave=wave, side=side).count()
    for n in range(existing + 1):
        token = demo_token(wave_slug=wave.slug, side=side, n=n)
        invitation = Invitation.objects.filter(token_hash=hash_token(token)).select_related("use").first()
        if invitation is None:
            _create_printed_invitation(wave=wave, side=side, token=token, n=n)
            return token
        if not invitation.is_used:
            return token
    raise RuntimeError("unreachable: more used demo invitations than invitations")  # pragma: no cover


def _create_printed_invitation(*, wave: Wave, side: str, token: str, n: int) -> None:
    if side == Side.STAFF:
        segments = {"department": "Customer Success", "role": "Individual contributor", "tenure": "1-3y"}
        account = None
        email = f"staff-{n:04d}@mirror-trading.example"
    else:
        account = wave.organization.accounts.exclude(status=CustomerAccount.Status.CHURNED).order_by(
            "external_id").first()
        segments = {k: getattr(account, k) for k in ("tier", "touch_model", "plan", "region")} if account else {}
        email = f"contact-{n:04d}@customer.example"
    Invitation.objects.create(
        wave=wave, side=side, token_hash=hash_token(token), email=email, language=wave.default_language,
        segments=services.clean_segments(wave=wave, side=side, segments=segments), customer_account=account,
    )


def _print_lines(org: Organization) -> list[str]:
    base = settings.KAGAMI_PUBLIC_URL
    User = get_user_model()
    lines: list[str] = []
    for username, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        password = DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "(changed since the demo was loaded)"
        note = f"{role}{', Django superuser' if superuser else ''}"
        lines.append(f"login: {username} / {password}  ({note})")
    wave = org.waves.filter(slug=DEMO_WAVES[-1].slug).first()
    if wave is not None:
        staff_token = demo_invitation_token(wave=wave, side=Side.STAFF)
        customer_token = demo_invitation_token(wave=wave, side=Side.CUSTOMER)
        lines += [
            f"staff invitation (unused): {base}/r/{staff_token}/",
            f"customer invitation (unused): {base}/r/{customer_token}/",
            f"staff anonymous link: {base}/s/{wave.slug}/staff/",
            f"customer anonymous link: {base}/s/{wave.slug}/customer/",
        ]
    lines += [
        f"API docs: {base}/api/docs/",
        f"admin: {base}/admin/",
        f"executive reports: {base}/reports/",
    ]
    pilot = org.waves.filter(slug=PILOT_SLUG).first()
    if pilot is not None:
        lines.append(f"customer journey and experience modules (journey pilot): {base}/reports/waves/{pilot.pk}/")
    internal_wave = org.waves.filter(slug=INTERNAL_SLUG).first()
    if internal_wave is not None:
        lines.append(f"internal services mirror (HR, IT, Finance, General affairs): "
                     f"{base}/reports/waves/{internal_wave.pk}/?department=finance")
        token = _internal_employee_token(internal_wave)
        if token:
            lines.append(f"employee invitation of the internal wave (unused): {base}/r/{token}/")
    return lines


def _internal_employee_token(wave: Wave) -> str | None:
    """An unused employee invitation of the internal demo wave (derived like the others, so printable again)."""
    if wave.status != WaveStatus.OPEN:
        return None
    for n in range(Invitation.objects.filter(wave=wave, side=Side.CUSTOMER).count() + 1):
        token = demo_token(wave_slug=wave.slug, side=Side.CUSTOMER, n=n)
        invitation = Invitation.objects.filter(token_hash=hash_token(token)).select_related("use").first()
        if invitation is None:
            Invitation.objects.create(wave=wave, side=Side.CUSTOMER, token_hash=hash_token(token),
                                      email=f"employee-printed-{n:03d}@mirror-trading.example",
                                      language=wave.default_language, segments={"division": "Sales"})
            return token
        if not invitation.is_used:
            return token
    return None  # pragma: no cover


# --------------------------------------------------------------------------- the generator


def _round_level(x: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, math.floor(x + 0.5)))


def _split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``total`` by ``shares`` (deterministic)."""
    raw = {k: total * v / sum(shares.values()) for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


@dataclass
class _Respondent:
    side: str
    language: str
    channel: str
    segments: dict[str, str]
    effect: float  # group + account effect on the latent scale
    account: CustomerAccount | None = None
    account_effect: float = 0.0
    invitation: Invitation | None = None
    long_time_customer: bool = False


class _Generator:
    def __init__(self, *, seed: int, customers: int, staff: int, progress: bool, bulk: bool = False) -> None:
        self.rng = random.Random(seed)
        # Health scores draw from their own stream, so adding them left every other demo value as it was.
        self.health_rng = random.Random(f"health-{seed}")
        # The same random stream either way; only how rows reach the database differs.
        self.bulk = bulk and connection.vendor == "postgresql"
        self.batch_size = 20_000 if self.bulk else 1000
        self.customers = customers
        self.staff = staff
        self.progress = progress
        self.account_effects: dict[int, float] = {}
        self.used_on: dict[int, date] = {}  # invitation id → day it was used

    # ------------------------------------------------------------ set-up

    def run(self) -> Organization:
        org, _ = Organization.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={"name": "Kagami Demo", "display_name_ja": "ミラー商事", "display_name_en": "Mirror Trading"},
        )
        self._users(org)
        self.accounts = self._accounts(org)
        builtin = builtin_instrument()
        waves: list[Wave] = []
        for spec in DEMO_WAVES:
            wave = services.wave_create(
                organization=org, instrument=builtin, name=spec.name, slug=spec.slug,
                opens_on=spec.opens_on, closes_on=spec.closes_on,
                languages=["ja", "en"], default_language=Language.JA, anonymity_threshold=5,
                staff_segment_fields=STAFF_SEGMENT_FIELDS, customer_segment_fields=CUSTOMER_SEGMENT_FIELDS,
                previous_wave=waves[-1] if waves else None,
            )
            services.wave_open(wave=wave)
            waves.append(wave)
            # Sorted here, not by the database: NULL dimensions sort differently on SQLite and
            # PostgreSQL, and the random stream must not depend on the backend.
            self.items = sorted(services.survey_items(wave=wave, side=Side.CUSTOMER),
                                key=lambda i: (i.dimension.order if i.dimension_id else 10**6, i.order, i.key))
        total = 2 * (self.customers + self.staff)
        bar = _progress_bar(total=total, enabled=self.progress)
        try:
            for index, (spec, wave) in enumerate(zip(DEMO_WAVES, waves, strict=True)):
                self._wave_data(index=index, spec=spec, wave=wave, bar=bar)
        finally:
            bar.close()
        services.wave_close(wave=waves[0])
        return org

    def _users(self, org: Organization) -> None:
        User = get_user_model()
        for username, role, superuser in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, email=f"{username}@mirror-trading.example",
                            is_staff=superuser, is_superuser=superuser)
                user.set_password(DEMO_PASSWORD)
                user.save()
            Membership.objects.get_or_create(user=user, organization=org, defaults={"role": role})

    def _health_score(self, effect: float, churned: bool) -> int:
        """A CS-tool health score that tracks how the account feels, noisily; churned accounts score lower."""
        score = 65 + 40 * effect - (15 if churned else 0) + self.health_rng.gauss(0, 10)
        return max(0, min(100, round(score)))

    def _accounts(self, org: Organization) -> list[CustomerAccount]:
        rng = self.rng
        tiers = ["Enterprise"] * 12 + ["Mid-market"] * 20 + ["SMB"] * 28
        names: set[str] = set()
        accounts: list[CustomerAccount] = []
        effects: list[float] = []
        for i, tier in enumerate(tiers, start=1):
            name = f"{rng.choice(ACCOUNT_WORDS[0])} {rng.choice(ACCOUNT_WORDS[1])}"
            while name in names:
                name = f"{rng.choice(ACCOUNT_WORDS[0])} {rng.choice(ACCOUNT_WORDS[1])}"
            names.add(name)
            effect = rng.gauss(0, ACCOUNT_SD)
            touch = {"Enterprise": "high", "Mid-market": rng.choice(["high", "low", "low"]), "SMB": "tech"}[tier]
            plan = {"Enterprise": "Enterprise", "Mid-market": "Business",
                    "SMB": rng.choice(["Starter", "Starter", "Business"])}[tier]
            arr_range = {"Enterprise": (8_000_000, 30_000_000), "Mid-market": (2_000_000, 8_000_000),
                         "SMB": (300_000, 2_000_000)}[tier]
            arr = Decimal(round(rng.uniform(*arr_range), -4)).quantize(Decimal("0.01"))
            since = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
            # Churn between the two waves, likelier the worse the account feels (logistic).
            p_churn = 1 / (1 + math.exp(1.6 + 3.5 * (effect + TIER_EFFECT[tier])))
            churned = rng.random() < p_churn
            renewed = not churned and rng.random() < 0.4 + 0.3 * math.tanh(2 * effect)
            accounts.append(CustomerAccount(
                organization=org, external_id=f"DEMO-{i:04d}", name=name, tier=tier, touch_model=touch, plan=plan,
                region=rng.choices(REGIONS, weights=[45, 20, 12, 8, 15])[0], arr=arr,
                status=(CustomerAccount.Status.CHURNED if churned else
                        CustomerAccount.Status.RENEWED if renewed else CustomerAccount.Status.ACTIVE),
                customer_since=min(since, date(2026, 3, 31)),
                churned_on=date(2026, 7, 1) + timedelta(days=rng.randrange(0, 120)) if churned else None,
                renewed_on=date(2026, 3, 1) + timedelta(days=rng.randrange(0, 240)) if renewed else None,
                health_score=self._health_score(effect + TIER_EFFECT[tier], churned),
                health_scored_on=date(2026, 6, 30),
            ))
            effects.append(effect)
        created = CustomerAccount.objects.bulk_create(accounts)
        for account, effect in zip(created, effects, strict=True):
            self.account_effects[account.pk] = effect
        return list(CustomerAccount.objects.filter(organization=org).order_by("external_id"))

    # ------------------------------------------------------------ one wave

    def _wave_data(self, *, index: int, spec: DemoWave, wave: Wave, bar: Any) -> None:
        staff = self._staff_respondents(spec=spec, wave=wave)
        customers = self._customer_respondents(spec=spec, wave=wave)
        respondents = staff + customers
        self.rng.shuffle(respondents)  # insertion order must not hint at invitation order
        self._insert(index=index, spec=spec, wave=wave, respondents=respondents, bar=bar)

    def _day(self, spec: DemoWave) -> date:
        return spec.opens_on + timedelta(days=self.rng.randrange(0, (spec.collected_until - spec.opens_on).days + 1))

    def _staff_segments(self, department: str) -> dict[str, str]:
        rng = self.rng
        return {"department": department, "role": rng.choices(STAFF_ROLES, weights=[5, 25, 70])[0],
                "tenure": rng.choices(TENURES, weights=[15, 35, 25, 25])[0]}

    def _staff_respondents(self, *, spec: DemoWave, wave: Wave) -> list[_Respondent]:
        rng = self.rng
        sizes = _split(self.staff - 4, DEPARTMENT_SHARES)
        sizes[SMALL_DEPARTMENT] = 4
        invitations: list[tuple[dict[str, str], bool]] = []  # segments, answered
        anonymous: list[dict[str, str]] = []
        for department in DEPARTMENTS:
            size = sizes[department]
            answered = 3 if department == SMALL_DEPARTMENT else round(size * 0.72)
            for _ in range(answered):
                invitations.append((self._staff_segments(department), True))
            for _ in range(round(answered * 0.3) + 2):  # roughly a 70–75 % response rate
                invitations.append((self._staff_segments(department), False))
            for _ in range(size - answered):
                segs = self._staff_segments(department)
                # Anonymous respondents skip some segment questions.
                anonymous.append({k: v for k, v in segs.items() if rng.random() < 0.85})
        rng.shuffle(invitations)
        created = self._create_invitations(wave=wave, spec=spec, side=Side.STAFF, rows=[
            {"segments": segs, "answered": answered, "language": "ja" if rng.random() < 0.85 else "en",
             "account": None} for segs, answered in invitations
        ])
        respondents: list[_Respondent] = []
        for invitation, (segs, answered) in zip(created, invitations, strict=True):
            if answered:
                # The response copies the invitation's segments but never points to it.
                respondents.append(self._staff(invitation.language, Channel.INVITATION, segs))
        for segs in anonymous:
            respondents.append(self._staff("ja" if rng.random() < 0.85 else "en", Channel.ANONYMOUS, segs))
        return respondents

    def _staff(self, language: str, channel: str, segs: dict[str, str]) -> _Respondent:
        effect = DEPARTMENT_EFFECT.get(segs.get("department", ""), 0.0) + TENURE_EFFECT.get(segs.get("tenure", ""), 0)
        return _Respondent(side=Side.STAFF, language=language, channel=channel, segments=segs, effect=effect)

    def _customer_respondents(self, *, spec: DemoWave, wave: Wave) -> list[_Respondent]:
        rng = self.rng
        eligible = [a for a in self.accounts if a.customer_since <= spec.opens_on
                    and (a.churned_on is None or a.churned_on > spec.opens_on)]
        weights = [{"Enterprise": 3.0, "Mid-market": 1.5, "SMB": 0.7}[a.tier] for a in eligible]
        n_invited = round(self.customers * 0.75)
        n_anonymous = round(self.customers * 0.2)
        n_api = self.customers - n_invited - n_anonymous
        rows = []
        for answered in [True] * n_invited + [False] * (round(n_invited * 1.6) + 5):  # ≈ 38 % response rate
            account = rng.choices(eligible, weights=weights)[0]
            language = ("en" if rng.random() < 0.9 else "ja") if account.region == "APAC" else (
                "ja" if rng.random() < 0.88 else "en")
            rows.append({"segments": {k: getattr(account, k) for k in ("tier", "touch_model", "plan", "region")},
                         "answered": answered, "language": language, "account": account})
        rng.shuffle(rows)
        created = self._create_invitations(wave=wave, spec=spec, side=Side.CUSTOMER, rows=rows)
        respondents: list[_Respondent] = []
        for invitation, row in zip(created, rows, strict=True):
            if not row["answered"]:
                continue
            account = row["account"]
            effect = self.account_effects[account.pk]
            respondents.append(_Respondent(
                side=Side.CUSTOMER, language=invitation.language, channel=Channel.INVITATION,
                segments=dict(row["segments"]), effect=effect + TIER_EFFECT[account.tier], account=account,
                account_effect=effect, invitation=invitation,
                long_time_customer=account.customer_since < date(2024, 1, 1),
            ))
        for channel, count in ((Channel.ANONYMOUS, n_anonymous), (Channel.API, n_api)):
            for _ in range(count):
                tier = rng.choices(TIERS, weights=[20, 35, 45])[0]
                segs = {"tier": tier, "region": rng.choices(REGIONS, weights=[45, 20, 12, 8, 15])[0],
                        "plan": {"Enterprise": "Enterprise", "Mid-market": "Business", "SMB": "Starter"}[tier]}
                if channel == Channel.ANONYMOUS:
                    segs = {k: v for k, v in segs.items() if rng.random() < 0.7}
                effect = rng.gauss(0, ACCOUNT_SD) + TIER_EFFECT.get(segs.get("tier", ""), 0.0)
                respondents.append(_Respondent(
                    side=Side.CUSTOMER, language="ja" if rng.random() < 0.8 else "en", channel=channel,
                    segments=segs, effect=effect, account_effect=effect,
                ))
        return respondents

    def _create_invitations(self, *, wave: Wave, spec: DemoWave, side: str, rows: list[dict]) -> list[Invitation]:
        rng = self.rng
        sent_at = datetime.combine(spec.opens_on, time(9, 0), tzinfo=TOKYO)
        invitations = []
        for n, row in enumerate(rows):
            name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}"
            if side == Side.STAFF:
                email = f"staff-{n:04d}@mirror-trading.example"
            else:
                email = f"contact-{n:04d}@{row['account'].name.lower().replace(' ', '-')}.example"
            reminders = 0 if row["answered"] else rng.choice([1, 1, 2])
            invitations.append(Invitation(
                wave=wave, side=side, token_hash=hash_token(demo_token(wave_slug=wave.slug, side=side, n=n)),
                email=email, name=name, language=row["language"], segments=row["segments"],
                customer_account=row["account"], sent_at=sent_at, reminder_count=reminders,
                last_reminded_at=sent_at + timedelta(days=7 * reminders) if reminders else None,
            ))
        if self.bulk:
            created = invitations_bulk_load(invitations)
        else:
            created = Invitation.objects.bulk_create(invitations, batch_size=1000)
            if any(inv.pk is None for inv in created):  # backends that cannot return ids from a bulk insert
                by_hash = dict(Invitation.objects.filter(wave=wave, side=side).values_list("token_hash", "pk"))
                for inv in created:
                    inv.pk = by_hash[inv.token_hash]
        uses = []
        for inv, row in zip(created, rows, strict=True):
            if row["answered"]:
                self.used_on[inv.pk] = self._day(spec)
                uses.append(InvitationUse(invitation_id=inv.pk, used_on=self.used_on[inv.pk]))
        if self.bulk:
            invitation_uses_bulk_load(uses)
        else:
            InvitationUse.objects.bulk_create(uses, batch_size=1000)
        return created

    # ------------------------------------------------------------ answers

    def _answers(self, *, wave_index: int, r: _Respondent) -> tuple[dict[ItemPair, int | None], float]:
        rng = self.rng
        means = MEANS[wave_index][r.side]
        halo = rng.gauss(0, HALO_SD)
        values: dict[ItemPair, int | None] = {}
        latents: list[float] = []
        ease: list[float] = []
        position: dict[str, int] = Counter()
        for item in self.items:
            if item.is_outcome:
                continue
            dim = item.dimension.key if item.dimension_id else HEADLINE
            offset = ITEM_OFFSETS[position[dim] % 3] if dim != HEADLINE else 0.0
            position[dim] += 1
            base = means[dim] + offset + halo + r.effect
            latents.append(base)
            if dim == "ease":
                ease.append(base)
            if rng.random() < self._na_rate(r, item, dim):
                values[item] = None
                continue
            level = _round_level(base + rng.gauss(0, NOISE_SD), 1, item.scale_max)
            values[item] = item.scale_max + 1 - level if item.reverse_keyed else level
        overall = sum(latents) / len(latents)
        if r.side == Side.CUSTOMER:
            ease_mean = sum(ease) / len(ease)
            for item in self.items:
                if item.kind == "nps":
                    values[item] = _round_level(2.3 * overall - 1.0 + rng.gauss(0, 1.3), 0, 10)
                elif item.kind == "ces":
                    values[item] = _round_level(1.6 * ease_mean - 0.9 + rng.gauss(0, 0.9), 1, 7)
                elif item.kind == "csat":
                    values[item] = _round_level(overall + 0.25 + rng.gauss(0, 0.6), 1, 5)
                elif item.kind == "renewal":
                    # Not every contact decides renewals: some say "don't know".
                    values[item] = None if rng.random() < 0.12 else _round_level(
                        overall + 0.3 + 0.6 * r.account_effect + rng.gauss(0, 0.7), 1, 5)
        return values, overall

    def _na_rate(self, r: _Respondent, item: ItemPair, dim: str) -> float:
        if r.side == Side.STAFF:
            far_from_customers = r.segments.get("department") in {"Engineering", "Marketing"}
            if far_from_customers and dim in {"onboarding", "personalization", "proactive"}:
                return 0.2
            return 0.02
        if dim == "onboarding" and r.long_time_customer and item.key.endswith("smooth_start"):
            return 0.25  # started years ago, does not remember
        return 0.08 if dim == "proactive" else 0.03

    def _comment(self, r: _Respondent, overall: float) -> str:
        if self.rng.random() >= (0.25 if r.side == Side.CUSTOMER else 0.15):
            return ""
        mood = "neg" if overall < 2.9 else "pos" if overall > 3.7 else "mid"
        return self.rng.choice(COMMENTS[(r.side, r.language, mood)])

    def _weights(self, respondents: list[_Respondent], wave: Wave) -> dict[str, float]:
        """Post-stratification by tier: account share of each tier over its share of responses."""
        accounts = Counter(a.tier for a in self.accounts)
        responses = Counter(r.segments["tier"] for r in respondents
                            if r.side == Side.CUSTOMER and r.segments.get("tier"))
        total_a, total_r = sum(accounts.values()), sum(responses.values())
        return {tier: round((accounts[tier] / total_a) / (responses[tier] / total_r), 3)
                for tier in responses if accounts[tier]}

    def _insert(self, *, index: int, spec: DemoWave, wave: Wave, respondents: list[_Respondent], bar: Any) -> None:
        rng = self.rng
        weights = self._weights(respondents, wave)
        batch: list[BulkResponse] = []
        for r in respondents:
            values, overall = self._answers(wave_index=index, r=r)
            day = self.used_on[r.invitation.pk] if r.invitation is not None else self._day(spec)
            is_staff = r.side == Side.STAFF
            batch.append(BulkResponse(
                id=uuid.UUID(bytes=rng.randbytes(16), version=4),
                wave_id=wave.pk, side=r.side, language=r.language, channel=r.channel, segments=r.segments,
                weight=None if is_staff else weights.get(r.segments.get("tier", "")),
                comment=self._comment(r, overall), submitted_on=day,
                # Staff keep the day only (model constraint); customers get a time on that day.
                submitted_at=None if is_staff else datetime.combine(
                    day, time(rng.randrange(8, 22), rng.randrange(0, 60)), tzinfo=TOKYO),
                invitation_id=None if is_staff or r.invitation is None else r.invitation.pk,
                customer_account_id=None if is_staff or r.account is None else r.account.pk,
                answers=[(item.pk, value) for item, value in values.items()],
            ))
            if len(batch) >= self.batch_size:
                self._flush(batch, bar)
        self._flush(batch, bar)

    def _flush(self, batch: list[BulkResponse], bar: Any) -> None:
        if not batch:
            return
        if self.bulk:
            responses_bulk_load(batch, batch_size=len(batch))
        else:
            SurveyResponse.objects.bulk_create([
                SurveyResponse(id=b.id, wave_id=b.wave_id, side=b.side, language=b.language, channel=b.channel,
                               segments=b.segments, weight=b.weight, comment=b.comment,
                               submitted_on=b.submitted_on, submitted_at=b.submitted_at,
                               invitation_id=b.invitation_id, customer_account_id=b.customer_account_id,
                               answers_packed=packing.pack(b.answers))
                for b in batch
            ], batch_size=1000)
        bar.update(len(batch))
        batch.clear()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(*, total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="response", desc="demo responses")
