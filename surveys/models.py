"""Kagami's domain: organizations, instruments, waves, invitations, responses.

Business rules live in ``surveys.services`` (writes) and ``surveys.selectors``
(reads); what must never be violated is also a database constraint here.

Why one file: Django's convention of one models module per app, each model with its constraints next
to its fields; the models point at one another throughout, and the migrations name functions of this
module (the JSON fields' defaults).
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys import packing


class Side(models.TextChoices):
    STAFF = "staff", _("Staff")
    CUSTOMER = "customer", _("Customer")


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"


class Organization(models.Model):
    """A company measured by Kagami (a tenant). Nothing crosses organizations."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    # The company's name as customers know it; fills "<Company>" in customer wordings.
    display_name_ja = models.CharField(max_length=200, blank=True)
    display_name_en = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def company_name(self, language: str) -> str:
        if language == Language.JA:
            return self.display_name_ja or self.display_name_en or self.name
        return self.display_name_en or self.display_name_ja or self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    ANALYST = "analyst", _("Analyst")
    EXECUTIVE = "executive", _("Executive")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]
        ordering = ["organization_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class MembershipInvitation(models.Model):
    """An invitation to join an organization with a role, sent to an e-mail address.

    Nobody becomes a member without accepting (surveys.member_invitations). Only the SHA-256 of
    the token is stored; the token exists in the e-mail alone.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="member_invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization_id", "-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "email"], name="member_invitation_org_email")]
        constraints = [
            models.CheckConstraint(condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                                   name="member_invitation_accepted_or_revoked"),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organization} ({self.role})"

    @property
    def status(self) -> str:
        """pending, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class Instrument(models.Model):
    """One version of a questionnaire. Built-in instruments have no organization.

    A version used by a wave is frozen (``frozen_at`` set); editing it goes
    through ``services.instrument_new_version``.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="instruments", null=True, blank=True
    )
    key = models.SlugField(max_length=80, help_text="Stable name shared by all versions of this instrument.")
    version = models.PositiveIntegerField(default=1)
    name_ja = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description_ja = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    is_builtin = models.BooleanField(default=False)
    based_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived")
    frozen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key", "version"],
                name="instrument_unique_org_key_version",
                condition=Q(organization__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["key", "version"],
                name="instrument_unique_builtin_key_version",
                condition=Q(organization__isnull=True),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="instrument_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Dimension(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="dimensions")
    key = models.SlugField(max_length=80)
    order = models.PositiveIntegerField(default=0)
    name_ja = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description_ja = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    # The optional module set this dimension came from (surveys.instruments.modules); blank for the core.
    module = models.SlugField(max_length=40, blank=True, default="",
                              help_text="Optional module set, e.g. experience_modules; blank for the core.")

    class Meta:
        ordering = ["instrument_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["instrument", "key"], name="dimension_unique_key")]

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_ja if language == Language.JA else self.name_en


class Touchpoint(models.Model):
    """A moment of the customer journey an organization measures (first contact, support, renewal, …).

    Items carry a touchpoint by key (``ItemPair.touchpoint``); the organization's list gives the order
    and names. Until an organization edits its list, the defaults are its list
    (``surveys.instruments.journey.DEFAULT_TOUCHPOINTS``; written on the first edit by
    ``surveys.services.touchpoints``).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="touchpoints")
    key = models.SlugField(max_length=40)
    order = models.PositiveIntegerField(default=0)
    name_ja = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["organization_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="touchpoint_unique_key")]

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_ja if language == Language.JA else self.name_en


class ItemKind(models.TextChoices):
    LIKERT = "likert", _("Agreement scale (matched staff/customer pair)")
    NPS = "nps", _("Net Promoter Score 0–10 (customers only)")
    CES = "ces", _("Customer Effort Score 1–7 (customers only)")
    CSAT = "csat", _("Overall satisfaction 1–5 (customers only)")
    RENEWAL = "renewal", _("Renewal intent 1–5 (customers only)")


# Fixed scales of the outcome items: (min, max).
OUTCOME_SCALES: dict[str, tuple[int, int]] = {
    ItemKind.NPS: (0, 10),
    ItemKind.CES: (1, 7),
    ItemKind.CSAT: (1, 5),
    ItemKind.RENEWAL: (1, 5),
}


class ItemPair(models.Model):
    """A matched pair of questions (staff wording and customer wording) on one construct.

    Outcome items (NPS, CES, satisfaction, renewal intent) are customer-only:
    their staff wordings are empty and they belong to no dimension.
    """

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="items", null=True, blank=True
    )
    key = models.SlugField(max_length=80)
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=ItemKind.choices, default=ItemKind.LIKERT)
    construct = models.CharField(max_length=200, blank=True, help_text="What both wordings ask about.")
    staff_text_ja = models.TextField(blank=True)
    staff_text_en = models.TextField(blank=True)
    customer_text_ja = models.TextField()
    customer_text_en = models.TextField()
    scale_points = models.PositiveSmallIntegerField(
        default=5, help_text="5 or 7 for agreement items; fixed by kind for outcome items."
    )
    allow_na = models.BooleanField(default=True, help_text="Offer 'don't know / not applicable' (never a scale point).")
    reverse_keyed = models.BooleanField(default=False)
    topbox_levels = models.JSONField(default=list, blank=True,
                                     help_text="Scale levels counted as top box, e.g. [4, 5].")
    is_headline = models.BooleanField(default=False, help_text="The 'we deliver a superior experience' pair.")
    # A key of the organization's touchpoints (Touchpoint), not a foreign key: the built-in instruments
    # carry the default keys for every organization.
    touchpoint = models.SlugField(max_length=40, blank=True, default="",
                                  help_text="The moment of the customer journey this pair is about; blank for none.")
    # Set only while the version is editable (surveys.instruments.items): the waves of this version never ask it.
    retired_at = models.DateTimeField(null=True, blank=True, help_text="Retired: kept, but not asked.")

    class Meta:
        ordering = ["instrument_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "key"], name="itempair_unique_key"),
            models.CheckConstraint(
                condition=~Q(kind="likert") | Q(scale_points__in=[5, 7]), name="itempair_likert_scale_5_or_7"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_outcome(self) -> bool:
        return self.kind != ItemKind.LIKERT

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def scale_min(self) -> int:
        return OUTCOME_SCALES[self.kind][0] if self.is_outcome else 1

    @property
    def scale_max(self) -> int:
        return OUTCOME_SCALES[self.kind][1] if self.is_outcome else int(self.scale_points)

    @property
    def levels(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))

    def asked_of(self, side: str) -> bool:
        return side == Side.CUSTOMER or not self.is_outcome

    def text(self, side: str, language: str) -> str:
        field = f"{side}_text_{'ja' if language == Language.JA else 'en'}"
        return getattr(self, field)


class WaveKind(models.TextChoices):
    """External: staff against the company's customers. Internal: a serving department's staff against the
    employees it serves (docs/anonymity.md, "Internal services"); both sides are then protected like staff."""

    EXTERNAL = "external", _("External customers")
    INTERNAL = "internal", _("Internal customers")


class WaveStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


# Labels of the default choices in the forms' languages (the stored value stays the choice); see surveys/respondents.py.
TENURE_LABELS = {"<1y": {"ja": "1年未満", "en": "Less than 1 year"}, "1-3y": {"ja": "1〜3年", "en": "1–3 years"},
                 "3-5y": {"ja": "3〜5年", "en": "3–5 years"}, "5y+": {"ja": "5年以上", "en": "5 years or more"}}
TOUCH_MODEL_LABELS = {"high": {"ja": "ハイタッチ", "en": "High touch"}, "low": {"ja": "ロータッチ", "en": "Low touch"},
                      "tech": {"ja": "テックタッチ", "en": "Tech touch"}}


def _segment_fields(fields: list[dict], not_asked: frozenset[str] = frozenset()) -> list[dict]:
    """Complete definitions (surveys/respondents.py): choice labels, and whether the anonymous link asks."""
    return [{**field, "choice_labels": copy.deepcopy(field.get("choice_labels", {})),
             "ask_anonymous": field["key"] not in not_asked} for field in fields]


def default_staff_segment_fields() -> list[dict]:
    # Staff declare their own segments on the anonymous link (never counted towards k: docs/anonymity.md P5).
    return _segment_fields([
        {"key": "department", "label_en": "Department", "label_ja": "部署", "choices": []},
        {"key": "role", "label_en": "Role", "label_ja": "職種", "choices": []},
        {"key": "tenure", "label_en": "Tenure", "label_ja": "勤続年数",
         "choices": ["<1y", "1-3y", "3-5y", "5y+"], "choice_labels": TENURE_LABELS},
    ])


def default_customer_segment_fields() -> list[dict]:
    # Tier, touch model and plan are the account's attributes: customers cannot know them, so the anonymous
    # link does not ask them (an admin may turn that on); invitations take them from the account.
    return _segment_fields([
        {"key": "tier", "label_en": "Tier", "label_ja": "ティア", "choices": []},
        {"key": "touch_model", "label_en": "Touch model", "label_ja": "タッチモデル",
         "choices": ["high", "low", "tech"], "choice_labels": TOUCH_MODEL_LABELS},
        {"key": "plan", "label_en": "Plan", "label_ja": "プラン", "choices": []},
        {"key": "region", "label_en": "Region", "label_ja": "地域", "choices": []},
    ], not_asked=frozenset({"tier", "touch_model", "plan"}))


def default_languages() -> list[str]:
    return ["ja", "en"]


class Wave(models.Model):
    """One survey round of an instrument version for an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="waves")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="waves")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in the anonymous links /s/<slug>/…")
    status = models.CharField(max_length=8, choices=WaveStatus.choices, default=WaveStatus.DRAFT)
    kind = models.CharField(max_length=8, choices=WaveKind.choices, default=WaveKind.EXTERNAL)
    # Internal waves: the serving departments rated, [{"key", "label_en", "label_ja"}] (surveys/internal.py).
    served_departments = models.JSONField(default=list, blank=True)
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True)
    languages = models.JSONField(default=default_languages)
    default_language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    anonymity_threshold = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(3), MaxValueValidator(100)]
    )
    customer_threshold = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    anonymity_override_reason = models.TextField(
        blank=True, max_length=1000,
        help_text="Why this wave's staff threshold is below the default (required for a threshold under 5; audited).",
    )
    staff_segment_fields = models.JSONField(default=default_staff_segment_fields, blank=True)
    customer_segment_fields = models.JSONField(default=default_customer_segment_fields, blank=True)
    # What respondents read above the questions (surveys/respondents.py); empty: a default naming the
    # company. Never the instrument's name or description, which are internal.
    staff_title_ja = models.CharField(max_length=200, blank=True)
    staff_title_en = models.CharField(max_length=200, blank=True)
    staff_intro_ja = models.TextField(max_length=2000, blank=True)
    staff_intro_en = models.TextField(max_length=2000, blank=True)
    customer_title_ja = models.CharField(max_length=200, blank=True)
    customer_title_en = models.CharField(max_length=200, blank=True)
    customer_intro_ja = models.TextField(max_length=2000, blank=True)
    customer_intro_en = models.TextField(max_length=2000, blank=True)
    previous_wave = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_waves",
        help_text="Default comparison wave for the change-over-time view.",
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(anonymity_threshold__gte=3), name="wave_anonymity_threshold_min_3"),
            models.CheckConstraint(condition=Q(customer_threshold__gte=1), name="wave_customer_threshold_min_1"),
            models.CheckConstraint(
                condition=Q(opens_on__isnull=True) | Q(closes_on__isnull=True) | Q(closes_on__gte=models.F("opens_on")),
                name="wave_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_collecting(self) -> bool:
        return self.status == WaveStatus.OPEN

    def segment_fields(self, side: str) -> list[dict]:
        return list(self.staff_segment_fields if side == Side.STAFF else self.customer_segment_fields)


def new_token() -> str:
    """An unguessable URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CustomerAccount(models.Model):
    """A customer company (B2B) or person, so perception can be related to churn."""

    class TouchModel(models.TextChoices):
        HIGH = "high", _("High touch")
        LOW = "low", _("Low touch")
        TECH = "tech", _("Tech touch")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CHURNED = "churned", _("Churned")
        RENEWED = "renewed", _("Renewed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="accounts")
    external_id = models.CharField(max_length=120)
    name = models.CharField(max_length=200, blank=True)
    tier = models.CharField(max_length=60, blank=True)
    touch_model = models.CharField(max_length=8, choices=TouchModel.choices, blank=True)
    plan = models.CharField(max_length=60, blank=True)
    region = models.CharField(max_length=60, blank=True)
    arr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                              validators=[MinValueValidator(0)])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    customer_since = models.DateField(null=True, blank=True)
    churned_on = models.DateField(null=True, blank=True)
    renewed_on = models.DateField(null=True, blank=True)
    # The customer-success team's own health score (0-100, from its CS tool), so perception can be set
    # beside it; the date says when that tool scored it.
    health_score = models.PositiveSmallIntegerField(null=True, blank=True,
                                                    validators=[MinValueValidator(0), MaxValueValidator(100)])
    health_scored_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="account_unique_external_id"),
            models.CheckConstraint(condition=Q(arr__isnull=True) | Q(arr__gte=0), name="account_arr_non_negative"),
            models.CheckConstraint(
                condition=Q(health_score__isnull=True) | Q(health_score__gte=0, health_score__lte=100),
                name="account_health_score_0_100",
            ),
            models.CheckConstraint(
                condition=Q(health_scored_on__isnull=True) | Q(health_score__isnull=False),
                name="account_health_date_needs_score",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class Invitation(models.Model):
    """A single-use link for one staff member or customer contact.

    Only the SHA-256 of the token is stored; the token itself exists in the
    email (and in the return value of the service that created it).
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="invitations")
    side = models.CharField(max_length=8, choices=Side.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    segments = models.JSONField(default=dict, blank=True)
    customer_account = models.ForeignKey(
        CustomerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveIntegerField(default=0)
    # When a mailing last went through it (invitation, reminder, resend): the reminder cool-down counts
    # from here. Staff: set for every invitation of a round, answered or not (P1), so it shows nothing.
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["wave_id", "id"]
        indexes = [models.Index(fields=["wave", "side"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(side="customer") | Q(customer_account__isnull=True), name="invitation_staff_has_no_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} invitation #{self.pk} ({self.wave})"

    @property
    def is_used(self) -> bool:
        return hasattr(self, "use")


class InvitationUse(models.Model):
    """Records *that* an invitation was used — never which response it produced.

    The primary key is the invitation: a second use is refused by the database,
    even when two submissions arrive at the same moment. Only the day is kept.
    """

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, primary_key=True, related_name="use")
    used_on = models.DateField(default=timezone.localdate)

    def __str__(self) -> str:
        return f"invitation #{self.invitation_id} used on {self.used_on}"


class InvitationLink(models.Model):
    """An earlier link of an invitation, replaced by a newer email; only its SHA-256 is stored.

    ``active``: kept working after a reminder or resend (it opens the same invitation, which is used once
    in total, whichever of its links answers). Not active: revoked by an admin's reissue; its page says a
    newer email replaced it. See surveys/invitation_links.py.
    """

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="earlier_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"earlier link of invitation #{self.invitation_id} ({'active' if self.active else 'revoked'})"


class AnonymousLink(models.Model):
    """The shareable link of one wave and side: /s/<wave-slug>/<side>/."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="anonymous_links")
    side = models.CharField(max_length=8, choices=Side.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "side"], name="anonymous_link_unique_wave_side")]

    def __str__(self) -> str:
        return f"/s/{self.wave.slug}/{self.side}/"


class Channel(models.TextChoices):
    INVITATION = "invitation", _("Invitation link")
    ANONYMOUS = "anonymous", _("Anonymous link")
    API = "api", _("Embedded (JSON API)")
    IMPORT = "import", _("Imported")
    DEMO = "demo", _("Demo data")


class SurveyResponse(models.Model):
    """One respondent's answers.

    Staff responses are never linkable to an invitee: they carry segment
    attributes only, no invitation, no account, and only the day they were
    submitted. A random UUID key keeps insertion order from hinting either.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: ``response_release_idx`` (wave, side, release) leads with the wave and the side.
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="responses", db_index=False)
    side = models.CharField(max_length=8, choices=Side.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.INVITATION)
    segments = models.JSONField(default=dict, blank=True)
    weight = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=5000)
    submitted_on = models.DateField(default=timezone.localdate)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="Customers only; staff keep the day.")
    invitation = models.OneToOneField(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="customer_response"
    )
    customer_account = models.ForeignKey(
        CustomerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    # The release (surveys.disclosure) that published this response; null while it waits for the next one.
    release = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Internal waves only: the serving department this response is about (the staff's own department on the
    # self side, the department rated on the customer side). Such a row is unlinkable on both sides.
    served_department = models.CharField(max_length=40, blank=True, default="")
    # The answers, packed (surveys.packing: item id and value per answer, in item-id order): stored once, in
    # this row, written by the INSERT that stores the response. ``Answer`` rows are a view of it.
    answers_packed = models.BinaryField(default=b"", blank=True, editable=False)

    class Meta:
        ordering = ["wave_id", "submitted_on"]
        # One index serves every read by wave, by wave and side, and by release range: a separate (wave) or
        # (wave, side) index would only add an index write to every post and bulk-loaded row.
        indexes = [models.Index(fields=["wave", "side", "release"], name="response_release_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(side="customer")
                | (Q(invitation__isnull=True) & Q(customer_account__isnull=True) & Q(submitted_at__isnull=True)),
                name="response_staff_unlinkable",
            ),
            models.CheckConstraint(
                condition=Q(served_department="")
                | (Q(invitation__isnull=True) & Q(customer_account__isnull=True) & Q(submitted_at__isnull=True)),
                name="response_internal_unlinkable",
            ),
            models.CheckConstraint(condition=Q(weight__isnull=True) | Q(weight__gt=0), name="response_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.side} response {self.pk}"

    def answer_values(self) -> dict[int, int | None]:
        """{item id: value, None for N/A}, unpacked from this row (no query)."""
        return packing.unpack(self.answers_packed)


class Answer(models.Model):
    """One answer, read-only: a row of the ``surveys_answer`` view, derived from ``SurveyResponse.answers_packed``.

    Answers are stored once, packed in their response's row (:mod:`surveys.packing`); this model is how the
    readers that want rows — exports, microdata, the admin, the GROUP BY reader, tests — query them. Nothing
    writes through it: a write goes to the response's ``answers_packed``. ``value`` is null for "don't know /
    not applicable"; the key is ``"<response id>:<position of the answer in the packing>"``.
    """

    id = models.CharField(primary_key=True, max_length=60, editable=False)
    # The answers go with their response's row; the view has nothing to delete.
    response = models.ForeignKey(SurveyResponse, on_delete=models.DO_NOTHING, related_name="answers",
                                 db_constraint=False)
    # Still protects an answered item from deletion: the collector reads the view.
    item = models.ForeignKey(ItemPair, on_delete=models.PROTECT, related_name="answers", db_constraint=False)
    value = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "surveys_answer"

    def __str__(self) -> str:
        return f"{self.item_id}={self.value}"

    def save(self, *args, **kwargs) -> None:
        raise TypeError("Answers are written in their response's answers_packed (surveys.packing), not as rows.")

    def delete(self, *args, **kwargs):
        raise TypeError("Answers are written in their response's answers_packed (surveys.packing), not as rows.")


class Release(models.Model):
    """One publication of a side's responses (disclosure promise P4): results change only release by release.

    A release stamps every response still waiting (``SurveyResponse.release``);
    ``surveys.disclosure`` decides when one is due.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="releases")
    side = models.CharField(max_length=8, choices=Side.choices)
    number = models.PositiveIntegerField()
    n_added = models.PositiveIntegerField(help_text="Responses this release published.")
    n_total = models.PositiveIntegerField(help_text="Responses published up to and including this release.")
    at_close = models.BooleanField(default=False)
    # Internal waves release per serving department (surveys/releases.py); "" for a whole side.
    served_department = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["wave_id", "side", "number"]
        constraints = [models.UniqueConstraint(fields=["wave", "side", "number"], name="release_unique_number")]

    def __str__(self) -> str:
        return f"{self.wave} {self.side} release {self.number}"


class AuditEvent(models.Model):
    """Who looked at what: written whenever staff segment results are viewed (gap API, report, CLI);
    also who invited whom to join, and who joined (surveys.member_invitations).

    Readable by the organization's admins (API and Django admin); never edited.
    """

    class Action(models.TextChoices):
        GAP_VIEW = "gap_view", _("Viewed gap results")
        REPORT_REQUEST = "report_request", _("Requested a report")
        REPORT_DOWNLOAD = "report_download", _("Downloaded a report")
        EXPORT = "export", _("Exported responses")
        RESPONSE_LIST = "response_list", _("Listed responses")
        COMMENT_LIST = "comment_list", _("Read comments")
        SEGMENT_DIFFERENCE = "segment_difference", _("Compared two segments")
        THRESHOLD_OVERRIDE = "threshold_override", _("Set a staff threshold below the default")
        MEMBER_INVITE = "member_invite", _("Invited someone to join")
        MEMBER_INVITE_RESEND = "member_invite_resend", _("Sent a membership invitation again")
        MEMBER_INVITE_REVOKE = "member_invite_revoke", _("Revoked a membership invitation")
        MEMBER_JOIN = "member_join", _("Joined by accepting an invitation")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="audit_events")
    username = models.CharField(max_length=150, blank=True, help_text="Kept if the user is deleted.")
    action = models.CharField(max_length=24, choices=Action.choices)
    wave = models.ForeignKey(Wave, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events")
    details = models.JSONField(default=dict, blank=True, help_text="Filters and options of the view.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.username or 'system'} {self.action} {self.created_at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------- imports (surveys/import_jobs.py)


class ImportedResponseKey(models.Model):
    """A respondent key already imported into a wave's side (surveys.imports.import_responses).

    Only a keyed hash (HMAC with the server's secret) of the file's key is kept, and nothing ties it to
    the response it created (no link, no time, and the hash is the primary key, so not even row order):
    a staff member's employee number stays unlinkable to their answers (docs/anonymity.md, P1).
    """

    key_hash = models.CharField(max_length=64, primary_key=True)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "side", "key_hash"],
                                               name="imported_key_unique_wave_side_key")]

    def __str__(self) -> str:
        return f"imported key of wave {self.wave_id} ({self.side})"


class ImportJob(models.Model):
    """A large import running in the background (surveys/import_jobs.py); polled through the API."""

    class Kind(models.TextChoices):
        INVITATIONS = "invitations", _("Invitations")
        ACCOUNTS = "accounts", _("Customer accounts")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="import_jobs")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, null=True, blank=True, related_name="import_jobs")
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    options = models.JSONField(default=dict, blank=True)  # skip_bad_rows, send
    filename = models.CharField(max_length=255, blank=True)
    data = models.BinaryField(default=b"", blank=True)  # the uploaded file until the job ends, then emptied
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)  # rows skipped (skip_bad_rows)
    errors = models.JSONField(default=list, blank=True)  # {"row", "column", "message"} of a failed import
    error = models.TextField(blank=True)
    ignored_columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.status} ({self.rows_done}/{self.rows_total or '?'})"
