"""Serializers of the staff API: top-level, uniquely named ``<Entity><Purpose>Serializer``.

Serializers check shapes and cross-field rules; writes go through services
(surveys.services), which raise surveys.errors.

Why one file: drf-spectacular publishes every serializer by its class name as one
schema component, so the names must be unique across the API; one file keeps the
``<Entity><Purpose>Serializer`` names and the shared field rules (text limits,
reserved segment keys, segment-field specs) side by side, in the order of the URL table.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys import disclosure, internal, respondents, selectors
from surveys.instruments.modules import MODULE_CHOICES, module_rows
from surveys.models import (
    OUTCOME_SCALES,
    AuditEvent,
    CustomerAccount,
    Dimension,
    Instrument,
    Invitation,
    ItemKind,
    ItemPair,
    Language,
    Membership,
    MembershipInvitation,
    Organization,
    Role,
    Side,
    SurveyResponse,
    Wave,
    WaveKind,
)

MAX_TEXT = 2000
MAX_DIMENSIONS = 50
MAX_ITEMS = 200
MAX_CONTACTS = 1000

# Column names used by imports/exports next to segment keys; a segment key must not shadow them.
RESERVED_SEGMENT_KEYS = frozenset({
    "response", "side", "language", "channel", "submitted_on", "submitted_at", "weight", "account", "comment",
    "email", "name", "external_id", "id",
})


# --------------------------------------------------------------------------- import errors (schema only)
# The one error shape of every operation is backend.api.schema.ErrorResponseSerializer; imports add rows.


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row: the header is row 1; 0 for the whole file.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportErrorResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ImportRowErrorSerializer(many=True, required=False)


# --------------------------------------------------------------------------- auth, me, organizations


class AuthTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class AuthTokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send as "Authorization: Token <token>".')


class OrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]


class MeMembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "role"]


class MeSerializer(serializers.ModelSerializer):
    memberships = MeMembershipSerializer(many=True, read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "memberships"]


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this organization.")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "display_name_ja", "display_name_en", "created_at", "role"]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, obj: Organization) -> str | None:
        return self.context.get("roles", {}).get(obj.pk)


# --------------------------------------------------------------------------- memberships


class MemberUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name"]


class MembershipSerializer(serializers.ModelSerializer):
    user = MemberUserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role", "created_at"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class OrganizationChoiceField(serializers.PrimaryKeyRelatedField):
    """An organization the requesting user belongs to; any other id is 'does not exist'."""

    default_error_messages = {"does_not_exist": "Unknown organization.", "incorrect_type": "Must be an integer id."}

    def get_queryset(self):
        roles = self.context.get("roles", {})
        return Organization.objects.filter(pk__in=list(roles))

    def to_internal_value(self, data: Any) -> Any:
        # Very large integers would overflow the database driver; they exist nowhere anyway.
        if isinstance(data, bool) or (isinstance(data, int) and not 0 < data < 2**63):
            self.fail("does_not_exist", pk_value=data)
        if isinstance(data, str) and (not (data.isascii() and data.isdigit()) or len(data) > 18):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class MembershipInvitationCreateSerializer(serializers.Serializer):
    """Invite an e-mail address; the person joins by accepting (surveys.member_invitations)."""

    organization = OrganizationChoiceField()
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.JA,
                                       help_text="Language of the invitation e-mail.")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "username" in data:
            raise serializers.ValidationError({"username": [
                'No longer accepted: invite an e-mail address with "email"; the person joins by accepting.']})
        return super().to_internal_value(data)


class MembershipInvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=["pending", "accepted", "revoked", "expired"], read_only=True)

    class Meta:
        model = MembershipInvitation
        fields = ["id", "organization", "email", "role", "language", "status", "created_at", "expires_at",
                  "sent_at", "accepted_at", "revoked_at"]
        read_only_fields = fields


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --------------------------------------------------------------------------- instruments


class InstrumentSummarySerializer(serializers.ModelSerializer):
    is_frozen = serializers.BooleanField(read_only=True)

    class Meta:
        model = Instrument
        fields = ["id", "organization", "key", "version", "name_ja", "name_en", "is_builtin", "is_frozen",
                  "frozen_at", "based_on", "created_at"]
        read_only_fields = fields


class DimensionDetailSerializer(serializers.ModelSerializer):
    module = serializers.CharField(read_only=True, help_text="The optional module set (experience_modules); empty "
                                                             "for the core.")

    class Meta:
        model = Dimension
        fields = ["key", "order", "name_ja", "name_en", "description_ja", "description_en", "module"]


class ItemPairDetailSerializer(serializers.ModelSerializer):
    dimension = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    scale_min = serializers.IntegerField(read_only=True)
    scale_max = serializers.IntegerField(read_only=True)
    topbox_levels = serializers.ListField(child=serializers.IntegerField())
    is_retired = serializers.BooleanField(read_only=True, help_text="Kept, but not asked in this version's waves.")
    touchpoint = serializers.CharField(read_only=True, help_text="The organization's touchpoint key this pair is "
                                                                 "about; empty for none.")

    class Meta:
        model = ItemPair
        fields = ["id", "key", "order", "dimension", "kind", "construct", "staff_text_ja", "staff_text_en",
                  "customer_text_ja", "customer_text_en", "scale_points", "scale_min", "scale_max", "allow_na",
                  "reverse_keyed", "topbox_levels", "is_headline", "touchpoint", "is_retired", "retired_at"]
        read_only_fields = fields


class InstrumentDetailSerializer(serializers.ModelSerializer):
    is_frozen = serializers.BooleanField(read_only=True)
    dimensions = DimensionDetailSerializer(many=True, read_only=True)
    items = ItemPairDetailSerializer(many=True, read_only=True)

    class Meta:
        model = Instrument
        fields = ["id", "organization", "key", "version", "name_ja", "name_en", "description_ja",
                  "description_en", "is_builtin", "is_frozen", "frozen_at", "based_on", "created_at",
                  "dimensions", "items"]
        read_only_fields = fields


class DimensionWriteSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=80)
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    name_ja = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    description_en = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    module = serializers.ChoiceField(choices=MODULE_CHOICES, required=False, default="", allow_blank=True,
                                     help_text="The optional module set the dimension belongs to; blank for the core.")


class ItemPairWriteSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=80)
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    dimension = serializers.SlugField(max_length=80, allow_null=True, required=False, default=None,
                                      help_text="Key of one of this instrument's dimensions; null for outcome items.")
    kind = serializers.ChoiceField(choices=ItemKind.choices, default=ItemKind.LIKERT)
    construct = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    staff_text_ja = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    staff_text_en = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    customer_text_ja = serializers.CharField(max_length=MAX_TEXT, help_text="May contain {company}.")
    customer_text_en = serializers.CharField(max_length=MAX_TEXT, help_text="May contain {company}.")
    scale_points = serializers.IntegerField(required=False, min_value=2, max_value=11,
                                            help_text="5 or 7 for likert items; ignored for outcome items.")
    allow_na = serializers.BooleanField(default=True)
    reverse_keyed = serializers.BooleanField(default=False)
    topbox_levels = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=10), required=False,
                                          max_length=11, help_text="Defaults to the top two levels (NPS: 9, 10).")
    is_headline = serializers.BooleanField(default=False)
    touchpoint = serializers.SlugField(max_length=40, allow_blank=True, required=False, default="",
                                       help_text="Key of one of the organization's touchpoints (a moment of the "
                                                 "customer journey); empty for none. Agreement items only.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        problems: dict[str, list[str]] = {}
        if kind == ItemKind.LIKERT:
            points = attrs.get("scale_points", 5)
            if points not in (5, 7):
                problems["scale_points"] = ["Agreement items use a 5- or 7-point scale."]
            for name in ("staff_text_ja", "staff_text_en"):
                if not attrs.get(name, "").strip():
                    problems[name] = ["A matched item needs its staff wording."]
            low, high = 1, points
        else:
            low, high = OUTCOME_SCALES[kind]
            points = high
            for name in ("staff_text_ja", "staff_text_en"):
                if attrs.get(name, "").strip():
                    problems[name] = ["Outcome items are asked of customers only; leave the staff wording empty."]
            if attrs.get("dimension"):
                problems["dimension"] = ["Outcome items belong to no dimension."]
            if attrs.get("is_headline"):
                problems["is_headline"] = ["The headline item is an agreement item."]
            if attrs.get("touchpoint"):
                problems["touchpoint"] = ["Outcome items carry no touchpoint: a touchpoint score averages "
                                          "agreement items."]
        levels = attrs.get("topbox_levels")
        if levels is None or levels == []:
            levels = [9, 10] if kind == ItemKind.NPS else [high - 1, high]
        elif any(not low <= level <= high for level in levels) or len(set(levels)) != len(levels):
            problems["topbox_levels"] = [f"Distinct levels between {low} and {high}."]
        if problems:
            raise serializers.ValidationError(problems)
        attrs["scale_points"] = points
        attrs["topbox_levels"] = sorted(levels)
        return attrs


def _check_contents(dimensions: list[dict], items: list[dict]) -> None:
    """Cross-item rules: unique keys, known dimension keys, at most one headline item."""
    dim_errors: list[dict] = [{} for _ in dimensions]
    item_errors: list[dict] = [{} for _ in items]
    seen: set[str] = set()
    for index, dim in enumerate(dimensions):
        if dim["key"] in seen:
            dim_errors[index]["key"] = ["Duplicate dimension key."]
        seen.add(dim["key"])
    item_keys: set[str] = set()
    headlines = 0
    for index, item in enumerate(items):
        if item["key"] in item_keys:
            item_errors[index]["key"] = ["Duplicate item key."]
        item_keys.add(item["key"])
        if item.get("dimension") and item["dimension"] not in seen:
            item_errors[index]["dimension"] = ["No dimension has this key."]
        if item.get("is_headline"):
            headlines += 1
            if headlines > 1:
                item_errors[index]["is_headline"] = ["Only one item can be the headline."]
    problems: dict[str, Any] = {}
    if any(dim_errors):
        problems["dimensions"] = dim_errors
    if any(item_errors):
        problems["items"] = item_errors
    if problems:
        raise serializers.ValidationError(problems)


class InstrumentCreateSerializer(serializers.Serializer):
    organization = OrganizationChoiceField()
    key = serializers.SlugField(max_length=80)
    name_ja = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    description_en = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")
    dimensions = DimensionWriteSerializer(many=True, max_length=MAX_DIMENSIONS)
    items = ItemPairWriteSerializer(many=True, min_length=1, max_length=MAX_ITEMS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_contents(attrs["dimensions"], attrs["items"])
        return attrs


class InstrumentTextsSerializer(serializers.Serializer):
    """PATCH of an instrument: its texts only. Items change through /instruments/{id}/items/."""

    name_ja = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False)
    description_en = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False)


class InstrumentUpdateSerializer(serializers.Serializer):
    """PUT of an instrument: texts, and the full set of dimensions and items, which replace all of them
    only with ``replace_items: true`` (the view checks the flag; a PATCH never replaces items).

    Always validated with partial=False (the view merges current texts into a PATCH), because
    DRF's partial mode would also skip the defaults of every nested item.
    """

    replace_items = serializers.BooleanField(
        required=False, default=False,
        help_text="Must be true: every dimension and item of this version is deleted and replaced by these.",
    )

    name_ja = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description_ja = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False)
    description_en = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False)
    dimensions = DimensionWriteSerializer(many=True, max_length=MAX_DIMENSIONS, required=False)
    items = ItemPairWriteSerializer(many=True, min_length=1, max_length=MAX_ITEMS, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.context.get("replace"):
            missing = {name: ["This field is required."] for name in ("dimensions", "items") if name not in attrs}
            if missing:
                raise serializers.ValidationError(missing)
        if ("dimensions" in attrs) != ("items" in attrs):
            missing_name = "items" if "dimensions" in attrs else "dimensions"
            raise serializers.ValidationError(
                {missing_name: ["Send dimensions and items together; they replace both."]}
            )
        if "items" in attrs:
            _check_contents(attrs["dimensions"], attrs["items"])
        return attrs


class InstrumentModuleSerializer(serializers.Serializer):
    module = serializers.ChoiceField(choices=MODULE_CHOICES,
                                     help_text="experience_modules: sense, feel, think, act and relate.")


class InstrumentCloneSerializer(serializers.Serializer):
    organization = OrganizationChoiceField()
    key = serializers.SlugField(max_length=80, required=False, help_text="Defaults to the source's key.")


# --------------------------------------------------------------------------- touchpoints


class TouchpointSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=40, read_only=True, help_text="What items carry; never changes.")
    order = serializers.IntegerField(read_only=True, help_text="Position in the journey (0 first).")
    name_ja = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    is_default = serializers.BooleanField(read_only=True,
                                          help_text="The organization has not edited its list: these are the "
                                                    "defaults (stored on the first edit).")


class TouchpointCreateSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=40)
    name_ja = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100)
    after = serializers.SlugField(max_length=40, required=False,
                                  help_text="Insert right after this touchpoint; without it, last.")


class TouchpointUpdateSerializer(serializers.Serializer):
    name_ja = serializers.CharField(max_length=100, required=False)
    name_en = serializers.CharField(max_length=100, required=False)


class TouchpointReorderSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.SlugField(max_length=40), min_length=1, max_length=40,
                                 help_text="Every touchpoint's key once, in the new journey order.")


# --------------------------------------------------------------------------- waves


class SegmentFieldSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=40)
    label_en = serializers.CharField(max_length=100)
    label_ja = serializers.CharField(max_length=100)
    choices = serializers.ListField(child=serializers.CharField(max_length=120), max_length=200, required=False,
                                    default=list, help_text="Allowed values; empty means free text.")
    choice_labels = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(max_length=120)), required=False,
        help_text='Optional labels of the choices in the forms\' languages, e.g. {"<1y": {"ja": "1年未満", '
                  '"en": "Less than 1 year"}}; respondents see the label, the choice itself is stored.',
    )
    ask_anonymous = serializers.BooleanField(
        required=False,
        help_text="Whether the side's anonymous link asks this field. Default: yes, except the customer "
                  "account's attributes tier, touch_model and plan (customers cannot know them; invited "
                  "customers get them from their account).",
    )

    def validate_key(self, value: str) -> str:
        if value in RESERVED_SEGMENT_KEYS:
            raise serializers.ValidationError(f"'{value}' is reserved for export and import columns.")
        return value

    def validate_choices(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Choices must be distinct.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = respondents.choice_labels_problems(list(attrs.get("choices") or []),
                                                      attrs.get("choice_labels") or {})
        if problems:
            raise serializers.ValidationError({"choice_labels": problems})
        return attrs


def _check_segment_fields(value: list[dict], side: str = Side.STAFF) -> list[dict]:
    # A PATCH is partial and DRF makes the nested segment fields partial too (no required fields, no
    # defaults); the list replaces the stored one, so each field must be whole all the same.
    missing = sorted({name for field in value for name in ("key", "label_en", "label_ja") if name not in field})
    if missing:
        raise serializers.ValidationError(f"Each segment field needs {', '.join(missing)}.")
    keys = [field["key"] for field in value]
    if len(set(keys)) != len(keys):
        raise serializers.ValidationError("Segment field keys must be distinct.")
    return [{**field, "choices": field.get("choices", []), "choice_labels": field.get("choice_labels", {}),
             "ask_anonymous": field.get("ask_anonymous", respondents.default_ask_anonymous(side, field["key"]))}
            for field in value]


def _check_customer_segment_fields(value: list[dict]) -> list[dict]:
    return _check_segment_fields(value, Side.CUSTOMER)


def _one_line(value: str) -> None:
    if "\n" in value or "\r" in value:
        raise serializers.ValidationError("A title is one line.")


def _title_field(side: str, language: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=respondents.TITLE_MAX_LENGTH, validators=[_one_line],
        help_text=f"The survey's title on the {side} forms in {language}, {{company}} filled in; empty: a default "
                  "naming the company. One line. Never the instrument's name (which is internal).")


def _intro_field(side: str, language: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=respondents.INTRO_MAX_LENGTH,
        help_text=f"The introduction of the {side} forms in {language} (blank lines separate paragraphs), "
                  "{company} filled in; empty: a default. Never the instrument's description (which is internal).")


class WaveCountsSerializer(serializers.Serializer):
    """Counts that change only release by release (disclosure promise P4)."""

    responses = serializers.IntegerField(help_text="Published responses (waiting ones are not counted).")
    invitations = serializers.IntegerField()
    answered_invitations = serializers.IntegerField(
        allow_null=True, help_text="Customers only; null for staff (which invitations were used is never shown).")
    response_rate = serializers.FloatField(
        allow_null=True, help_text="Customers: answered / invited; staff: published responses / invited; "
                                   "null when none invited.")


class WaveSideCountsSerializer(serializers.Serializer):
    staff = WaveCountsSerializer()
    customer = WaveCountsSerializer()


class WaveLinksSerializer(serializers.Serializer):
    staff = serializers.URLField()
    customer = serializers.URLField()


class ServedDepartmentSerializer(serializers.Serializer):
    """A serving department of an internal wave (surveys/internal.py)."""

    key = serializers.SlugField(max_length=40)
    label_en = serializers.CharField(max_length=120)
    label_ja = serializers.CharField(max_length=120, required=False, allow_blank=True)


class WaveSerializer(serializers.ModelSerializer):
    """A wave; retrieve adds ``anonymous_links`` and ``counts`` (null in lists)."""

    served_departments = ServedDepartmentSerializer(
        many=True, read_only=True,
        help_text="Internal waves: the serving departments rated; results are per department. Empty otherwise.")

    staff_segment_fields = SegmentFieldSerializer(many=True, read_only=True)
    customer_segment_fields = SegmentFieldSerializer(many=True, read_only=True)
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices), read_only=True)
    anonymous_links = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Wave
        fields = ["id", "organization", "instrument", "name", "slug", "status", "kind", "served_departments",
                  "opens_on", "closes_on", "languages", "default_language", "anonymity_threshold",
                  "anonymity_override_reason", "customer_threshold",
                  "staff_segment_fields", "customer_segment_fields", *respondents.RESPONDENT_TEXT_FIELDS,
                  "previous_wave", "opened_at", "closed_at", "created_at", "anonymous_links", "counts"]
        read_only_fields = fields

    def _detailed(self) -> bool:
        return bool(self.context.get("detail"))

    @extend_schema_field(WaveLinksSerializer(allow_null=True))
    def get_anonymous_links(self, obj: Wave) -> dict | None:
        return selectors.anonymous_link_urls(wave=obj) if self._detailed() else None

    @extend_schema_field(WaveSideCountsSerializer(allow_null=True))
    def get_counts(self, obj: Wave) -> dict | None:
        return selectors.wave_counts(wave=obj) if self._detailed() else None


class WaveWriteSerializer(serializers.ModelSerializer):
    """Create (organization and instrument required) and PATCH (neither may change)."""

    organization = OrganizationChoiceField()
    instrument = serializers.PrimaryKeyRelatedField(queryset=Instrument.objects.none(),
                                                    help_text="A built-in instrument is copied into the organization.")
    previous_wave = serializers.PrimaryKeyRelatedField(queryset=Wave.objects.none(), allow_null=True, required=False)
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices), min_length=1,
                                      max_length=2, required=False)
    anonymity_threshold = serializers.IntegerField(
        required=False, validators=[MinValueValidator(3), MaxValueValidator(100)],
        help_text="Smallest staff group shown in any breakdown; never below 3. Below 5 only with "
                  "anonymity_override_reason in the same request (audited).",
    )
    anonymity_override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, trim_whitespace=True,
        help_text="Why the staff threshold is below 5: required with any new threshold under 5, and cannot be "
                  "blanked while it stays there; recorded in a threshold_override audit event. Ignored (stored "
                  "empty) at 5 or more.",
    )
    customer_threshold = serializers.IntegerField(required=False, validators=[MinValueValidator(1),
                                                                              MaxValueValidator(100)])
    staff_segment_fields = SegmentFieldSerializer(many=True, required=False, max_length=20)
    customer_segment_fields = SegmentFieldSerializer(many=True, required=False, max_length=20)
    staff_title_ja = _title_field("staff", "ja")
    staff_title_en = _title_field("staff", "en")
    staff_intro_ja = _intro_field("staff", "ja")
    staff_intro_en = _intro_field("staff", "en")
    customer_title_ja = _title_field("customer", "ja")
    customer_title_en = _title_field("customer", "en")
    customer_intro_ja = _intro_field("customer", "ja")
    customer_intro_en = _intro_field("customer", "en")
    modules = serializers.ListField(
        child=serializers.ChoiceField(choices=MODULE_CHOICES), required=False, write_only=True,
        max_length=len(MODULE_CHOICES),
        help_text="Creation only. Optional module sets the wave asks (experience_modules). When the chosen "
                  "version lacks one, the wave runs on a new version of it derived with the module (or an "
                  "earlier such derivation); the chosen version is never changed.",
    )

    kind = serializers.ChoiceField(
        choices=WaveKind.choices, required=False,
        help_text="Creation only. external (default): staff vs customers. internal: a serving department's staff "
                  "vs the employees it serves; both sides protected like staff, results per department.")
    served_departments = ServedDepartmentSerializer(
        many=True, required=False, max_length=30,
        help_text="Creation only, internal waves: the serving departments (key, label_en, label_ja).")

    class Meta:
        model = Wave
        fields = ["organization", "instrument", "name", "slug", "kind", "served_departments", "opens_on", "closes_on",
                  "languages",
                  "default_language", "anonymity_threshold", "anonymity_override_reason", "customer_threshold",
                  "staff_segment_fields", "customer_segment_fields", *respondents.RESPONDENT_TEXT_FIELDS,
                  "previous_wave", "modules"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org_ids = list(self.context.get("roles", {}))
        self.fields["instrument"].queryset = selectors.instrument_list(org_ids=org_ids)
        self.fields["previous_wave"].queryset = selectors.wave_list(org_ids=org_ids)
        if self.instance is not None:
            for name in ("organization", "instrument"):
                self.fields[name].read_only = True

    def validate_languages(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Languages must be distinct.")
        return value

    validate_staff_segment_fields = staticmethod(_check_segment_fields)
    validate_customer_segment_fields = staticmethod(_check_customer_segment_fields)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Wave | None = self.instance
        org = attrs.get("organization") or (instance.organization if instance else None)
        instrument = attrs.get("instrument") or (instance.instrument if instance else None)
        problems: dict[str, list[str]] = {}

        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(instance, name, None)

        if instance is None and instrument is not None and instrument.organization_id not in (None, org.pk):
            problems["instrument"] = ["This instrument belongs to another organization."]
        if instance is not None and ({"kind", "served_departments"} & set(attrs)):
            for name in {"kind", "served_departments"} & set(attrs):
                problems[name] = ["Chosen when a wave is created."]
        if instance is not None and "modules" in attrs:
            problems["modules"] = ["Modules are chosen when a wave is created: its questions never change."]
        opens_on, closes_on = current("opens_on"), current("closes_on")
        if opens_on and closes_on and closes_on < opens_on:
            problems["closes_on"] = ["Must not be before opens_on."]
        languages = current("languages") or [Language.JA, Language.EN]
        default_language = current("default_language") or languages[0]
        if default_language not in languages:
            problems["default_language"] = ["Must be one of the wave's languages."]
        previous = attrs.get("previous_wave")
        if previous is not None and (previous.organization_id != org.pk or previous == instance):
            problems["previous_wave"] = ["Must be another wave of the same organization."]
        if instrument is not None:
            item_keys = set(instrument.items.values_list("key", flat=True))
            for module in attrs.get("modules") or []:
                item_keys |= {item["key"] for item in module_rows(module)[1]}
            for name in ("staff_segment_fields", "customer_segment_fields"):
                clashes = sorted(item_keys & {f["key"] for f in attrs.get(name, [])})
                if clashes:
                    problems[name] = [f"Segment keys clash with item keys: {', '.join(clashes)}."]
        if problems:
            raise serializers.ValidationError(problems)
        if "languages" in attrs or instance is None:
            attrs.setdefault("default_language", default_language)
        return attrs


# --------------------------------------------------------------------------- accounts


class CustomerAccountSerializer(serializers.ModelSerializer):
    organization = OrganizationChoiceField()
    arr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, allow_null=True, required=False,
                                   coerce_to_string=False)
    health_score = serializers.IntegerField(
        min_value=0, max_value=100, allow_null=True, required=False,
        help_text="The customer-success health score, 0-100 inclusive (e.g. from your CS tool); null if unknown.",
    )
    health_scored_on = serializers.DateField(
        allow_null=True, required=False,
        help_text="The date the health score was taken; needs a health score (in the request or already stored).",
    )

    class Meta:
        model = CustomerAccount
        fields = ["id", "organization", "external_id", "name", "tier", "touch_model", "plan", "region", "arr",
                  "status", "customer_since", "churned_on", "renewed_on", "health_score", "health_scored_on",
                  "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # uniqueness of external_id is checked by services.account_save

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["organization"].read_only = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A score date without a score means nothing (and the database refuses it); a PATCH may rely on the
        # stored score, or clear it, so the score in force after the change is what counts.
        instance = self.instance if isinstance(self.instance, CustomerAccount) else None
        score = attrs.get("health_score", instance.health_score if instance else None)
        scored_on = attrs.get("health_scored_on", instance.health_scored_on if instance else None)
        if scored_on is not None and score is None:
            raise serializers.ValidationError({"health_scored_on": ["A health score date needs a health score."]})
        return attrs


# --------------------------------------------------------------------------- invitations


INVITATION_STATUSES = [("pending", "Not sent yet"), ("sent", "Sent (customers: and not answered)"),
                       ("answered", "Answered (customers only)")]

# Disclosure promise P1, "no linkage": nothing ties a named colleague to a staff response, so nothing
# says which staff invitations were used. A reminder goes only to those who have not answered, so the
# reminder fields of a staff invitation would say it too.
STAFF_NO_USE = ("Staff invitations never show whether they were used (disclosure promise P1, no linkage).")
STAFF_NO_REMINDERS = ("Always null for staff invitations: a reminder goes only to those who have not answered, "
                      "so when and how often one was reminded would say whether its invitee answered "
                      "(disclosure promise P1, no linkage).")


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation and its delivery status; never which response it produced, and for staff never whether
    it produced one."""

    status = serializers.SerializerMethodField(
        help_text="pending (never sent) or sent; customers' used invitations are answered. " + STAFF_NO_USE
                  + " Their status is delivery only: sent once mailed, answered or not.",
    )
    account = serializers.SlugRelatedField(source="customer_account", slug_field="external_id", read_only=True,
                                           allow_null=True)
    # Plain text: invitations without an address have "", which is not of format "email".
    email = serializers.CharField(read_only=True, help_text="Empty when the contact has no address.")
    last_reminded_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                                 help_text="When the last reminder went out. " + STAFF_NO_REMINDERS)
    reminder_count = serializers.IntegerField(read_only=True, allow_null=True,
                                              help_text="Reminders sent. " + STAFF_NO_REMINDERS)

    class Meta:
        model = Invitation
        fields = ["id", "side", "email", "name", "language", "segments", "account", "status", "created_at",
                  "sent_at", "last_reminded_at", "reminder_count"]
        read_only_fields = fields

    def to_representation(self, instance: Invitation) -> dict[str, Any]:
        data = super().to_representation(instance)
        if internal.protected_side(instance.wave, instance.side):
            data["last_reminded_at"] = None
            data["reminder_count"] = None
        return data

    @extend_schema_field(serializers.ChoiceField(choices=INVITATION_STATUSES))
    def get_status(self, obj: Invitation) -> str:
        if not internal.protected_side(obj.wave, obj.side) and obj.is_used:
            return "answered"
        return "sent" if obj.sent_at else "pending"


class InvitationIssuedSerializer(serializers.Serializer):
    """A newly issued invitation, with its link for customers. The link is shown once: only its hash is stored."""

    invitation = InvitationSerializer()
    link = serializers.URLField(
        allow_null=True,
        help_text="Customers: the invitation's single-use link, shown only now. Staff: always null — a staff "
                  "link is only ever emailed to the address on its invitation, because whoever else kept it "
                  "could open it later and see whether that colleague answered (disclosure promise P1, no "
                  "linkage).",
    )


class InvitationContactSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="",
                                   help_text="Required for staff: their invitation reaches them by email only "
                                             "(people without an address use the anonymous staff link).")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_null=True, default=None)
    segments = serializers.DictField(child=serializers.CharField(max_length=120, allow_blank=True), required=False,
                                     default=dict)
    account = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                    help_text="external_id of a customer account (customer side only).")


class InvitationBulkCreateSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices)
    send = serializers.BooleanField(default=False, help_text="Email each contact that has an address.")
    contacts = InvitationContactSerializer(many=True, min_length=1, max_length=MAX_CONTACTS)


class InvitationImportSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices)
    file = serializers.FileField(help_text="CSV (UTF-8 or CP932) or XLSX.")
    skip_bad_rows = serializers.BooleanField(default=False)
    send = serializers.BooleanField(default=False)


class SkippedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class InvitationIssueResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    sent = serializers.IntegerField()
    skipped = SkippedRowSerializer(many=True)
    invitations = InvitationIssuedSerializer(many=True)


class InvitationSkippedSerializer(serializers.Serializer):
    invitation = serializers.IntegerField(help_text="The invitation's id.")
    side = serializers.ChoiceField(choices=Side.choices)
    reason = serializers.ChoiceField(choices=["cooldown"], help_text="Why it was not reminded.")
    next_reminder_at = serializers.DateTimeField(help_text="When the cool-down ends.")


class InvitationRemindResultSerializer(serializers.Serializer):
    """What a reminder round reports: counts for customers only; for staff only that it went out."""

    sent = serializers.IntegerField(allow_null=True,
                                    help_text="Customer reminders sent; null when customers were not reminded.")
    skipped_no_email = serializers.IntegerField(allow_null=True, help_text="Customers without an address; null "
                                                "when customers were not reminded.")
    skipped_answered = serializers.IntegerField(allow_null=True, help_text="Customers who answered meanwhile; null "
                                                "when customers were not reminded.")
    failed = serializers.ListField(child=serializers.IntegerField(), allow_null=True,
                                   help_text="Customer invitation ids the mail server refused; null when customers "
                                             "were not reminded.")
    staff_queued = serializers.BooleanField(
        help_text="True when staff were reminded: every staff invitee sent an invitation who has not answered got "
                  "a reminder. How many, and who, is never reported: that is the number (and the names) of the "
                  "staff who have not answered, which one colleague's answer would change (disclosure promise P1, "
                  "no linkage).",
    )
    skipped = InvitationSkippedSerializer(
        many=True, help_text="Invitations not reminded because they were mailed less than "
                             "KAGAMI_REMINDER_COOLDOWN_HOURS ago (staff too: the cool-down counts from the round, "
                             "answered or not, so this list says nothing about who answered).")


class InvitationRemindSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices, required=False, allow_null=True, default=None,
                                   help_text="Both sides when omitted.")


class InvitationResendResultSerializer(serializers.Serializer):
    invitation = InvitationSerializer()
    sent = serializers.BooleanField(
        help_text="False when the invitation has no email address (customers: or the mail server refused it). "
                  "Staff: true whenever it has an address, answered or not — a used staff invitation is not "
                  "mailed again, but says so nowhere (disclosure promise P1, no linkage).",
    )
    link = serializers.URLField(
        allow_null=True,
        help_text="Customers: the new link (after a resend the previous ones still work; after a reissue they "
                  "say a newer e-mail replaced them). Staff: always null — an unused "
                  "invitation gets its new link by email only, since one handed back here for unused invitations "
                  "alone would say which were used.",
    )


# --------------------------------------------------------------------------- responses


class SurveyResponseSerializer(serializers.ModelSerializer):
    """A published response.

    Customer rows carry their account and time. Staff rows are k-anonymous microdata
    (disclosure promise P6): their block's released segment values ("(withheld)" where a
    value is generalised), the answers of items whose block gave at least k answers
    (``withheld_items`` names the others), and no id, day, channel, language or comment
    (comments: ``GET /waves/{id}/comments/``).
    """

    id = serializers.UUIDField(read_only=True, allow_null=True)
    language = serializers.CharField(read_only=True, allow_null=True)
    channel = serializers.CharField(read_only=True, allow_null=True)
    submitted_on = serializers.DateField(read_only=True, allow_null=True)
    answers = serializers.SerializerMethodField(help_text="Item key → value; null means don't know / N/A.")
    withheld_items = serializers.SerializerMethodField(
        help_text="Staff rows: items whose answers are withheld (their group gave fewer than k answers).")
    account = serializers.SlugRelatedField(source="customer_account", slug_field="external_id", read_only=True,
                                           allow_null=True)

    class Meta:
        model = SurveyResponse
        fields = ["id", "side", "language", "channel", "segments", "submitted_on", "submitted_at", "weight",
                  "account", "comment", "answers", "withheld_items"]
        read_only_fields = fields

    def _staff_row(self, obj: SurveyResponse):
        plan = self.context.get("staff_plan")
        if plan is None:
            raise RuntimeError("staff rows need the staff plan (surveys.microdata.side_plan) in the context")
        return plan.row(obj, {a.item_id: a.value for a in obj.answers.all()})

    def to_representation(self, obj: SurveyResponse) -> dict:
        data = super().to_representation(obj)
        if obj.side != Side.STAFF:
            return data
        row = self._staff_row(obj)
        keys = {a.item_id: a.item.key for a in obj.answers.all()}
        if row is None:  # not released: the list never includes it, but never show it either
            return {name: None for name in data} | {"side": Side.STAFF, "segments": {}, "answers": {},
                                                    "withheld_items": [], "comment": ""}
        return {
            **dict.fromkeys(data), "side": Side.STAFF, "comment": "",
            "segments": {key: disclosure.display_value(value) for key, value in row.segments.items()
                         if value != disclosure.NOT_GIVEN},
            "answers": {keys[item]: value for item, value in row.answers.items()},
            "withheld_items": sorted(keys[item] for item in row.withheld_items),
        }

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer", "nullable": True}})
    def get_answers(self, obj: SurveyResponse) -> dict[str, int | None]:
        return {answer.item.key: answer.value for answer in obj.answers.all()}

    def get_withheld_items(self, obj: SurveyResponse) -> list[str]:
        return []


class CommentGroupSerializer(serializers.Serializer):
    """Comments of one released group (at least k respondents), in an order unrelated to time or person."""

    segments = serializers.DictField(child=serializers.CharField(), help_text="The group's released values.")
    n_responses = serializers.IntegerField()
    comments = serializers.ListField(child=serializers.CharField())


class ImportUploadSerializer(serializers.Serializer):
    organization = OrganizationChoiceField()
    file = serializers.FileField(help_text="CSV (UTF-8 or CP932) or XLSX.")
    skip_bad_rows = serializers.BooleanField(default=False)


class AccountImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Accounts created or updated.")
    skipped = SkippedRowSerializer(many=True)
    accounts = CustomerAccountSerializer(many=True)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "organization", "username", "action", "wave", "details", "created_at"]
        read_only_fields = fields
