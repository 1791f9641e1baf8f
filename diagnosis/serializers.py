"""Serializers of the diagnosis API: the public twin's questionnaire and results, and the staff API's
links and aggregate. Output serializers document the shapes diagnosis.present and diagnosis.selectors
build; input serializers check only the envelope (the answers themselves are the service's rule)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from diagnosis import scoring
from diagnosis.questions import ITEM_KEYS, SCALE_MAX, SCALE_MIN
from diagnosis.selectors import TOKEN_MAX_LENGTH
from diagnosis.services import LABEL_MAX
from surveys.models import Language

BAND_CHOICES = [key for _, key in scoring.BANDS]

# ------------------------------------------------------------------ the questionnaire


class LevelSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField()


class ScaleSerializer(serializers.Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField()
    labels = LevelSerializer(many=True)


class NamedSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(help_text="In the requested language.")


class AreaSerializer(NamedSerializer):
    about = serializers.CharField(help_text="The question the area asks, in one line.")


class ItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    element = serializers.CharField(help_text="The key of the element the statement belongs to.")
    areas = serializers.ListField(child=serializers.CharField(), help_text="The keys of its one or two areas.")
    text = serializers.CharField()
    required = serializers.BooleanField(help_text="Always true: every statement needs an answer.")


class QuestionnaireSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The questionnaire's version, stored with each result.")
    language = serializers.ChoiceField(choices=Language.choices)
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices))
    scale = ScaleSerializer()
    elements = NamedSerializer(many=True)
    areas = AreaSerializer(many=True)
    items = ItemSerializer(many=True)


class LanguageQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(choices=Language.choices, required=False)


# ------------------------------------------------------------------ a submission


@extend_schema_field({
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": SCALE_MIN, "maximum": SCALE_MAX},
    "description": (f"Item key → answer {SCALE_MIN}–{SCALE_MAX} (1 = strongly disagree, 5 = strongly agree). "
                    f"Every item is required: {', '.join(ITEM_KEYS)}. A missing, non-integer or out-of-range "
                    "answer, or an unknown key, is a 400 under answers.<key>."),
    "example": dict.fromkeys(ITEM_KEYS, 3),
})
class AnswersField(serializers.JSONField):
    pass


class SubmissionSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, help_text="The result's language.")
    answers = AnswersField()
    token = serializers.CharField(
        required=False, allow_blank=False, max_length=TOKEN_MAX_LENGTH,
        help_text="An organization's diagnosis link token (the last part of /diagnosis/o/<token>/). The result "
                  "then counts in the organization's aggregate and shows how its staff and customers saw the same "
                  "areas. An unknown or switched-off token is a 404.")


# ------------------------------------------------------------------ a result


class ScoredSerializer(NamedSerializer):
    score = serializers.FloatField(help_text="Maturity 0–100: the mean of (answer − 1) / 4 × 100 over the "
                                             "statements, one decimal.")
    band = serializers.ChoiceField(choices=BAND_CHOICES, help_text="Below 25, 50, 75, or from 75.")
    band_label = serializers.CharField()


class WeakAreaSerializer(ScoredSerializer):
    about = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField(), help_text="Two or three concrete next steps.")


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    answer = serializers.IntegerField(min_value=SCALE_MIN, max_value=SCALE_MAX)


class ComparisonDimensionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The survey dimension's key.")
    name = serializers.CharField()
    status = serializers.CharField(help_text="The gap engine's report status (docs/methods.md §5.3).")
    reportable = serializers.BooleanField(help_text="False: not enough responses on a side; no number is shown.")
    mean_staff = serializers.FloatField(allow_null=True, help_text="Null unless reportable.")
    mean_customer = serializers.FloatField(allow_null=True, help_text="Null unless reportable.")
    gap = serializers.FloatField(allow_null=True, help_text="Staff minus customers; null unless reportable.")


class ComparisonAreaSerializer(NamedSerializer):
    dimensions = ComparisonDimensionSerializer(many=True)


class ComparisonWaveSerializer(serializers.Serializer):
    name = serializers.CharField()
    closed_on = serializers.DateField(allow_null=True)


class ComparisonSerializer(serializers.Serializer):
    wave = ComparisonWaveSerializer(allow_null=True, help_text="The latest closed wave; null when there is none.")
    staff_k = serializers.IntegerField(allow_null=True)
    customer_k = serializers.IntegerField(allow_null=True)
    areas = ComparisonAreaSerializer(many=True)


class ResultSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The result's only handle: /diagnosis/r/<id>/.")
    created_on = serializers.DateField(help_text="The day only; no time is stored.")
    language = serializers.ChoiceField(choices=Language.choices)
    version = serializers.CharField()
    organization = serializers.CharField(allow_null=True, help_text="Set when the diagnosis came through an "
                                                                    "organization's link.")
    answers = AnswerSerializer(many=True)
    elements = ScoredSerializer(many=True)
    areas = ScoredSerializer(many=True)
    weakest = WeakAreaSerializer(many=True, help_text="The two weakest areas: lowest maturity, then the lower "
                                                      "single answer, then questionnaire order.")
    comparison = ComparisonSerializer(allow_null=True, help_text=(
        "How the organization's staff and customers saw the mapped dimensions in its latest closed wave, from "
        "the gap engine; only for a result that came through an active organization link, else null."))
    result_url = serializers.CharField()
    pdf_url = serializers.CharField()


# ------------------------------------------------------------------ the staff API


class DiagnosisLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    label = serializers.CharField(allow_blank=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class DiagnosisLinkCreatedSerializer(DiagnosisLinkSerializer):
    token = serializers.CharField(help_text="Shown once: only its hash is stored.")
    url = serializers.CharField(help_text="The link to hand out: /diagnosis/o/<token>/.")


class DiagnosisLinkCreateSerializer(serializers.Serializer):
    label = serializers.CharField(required=False, allow_blank=True, max_length=LABEL_MAX,
                                  help_text="Your own note of where the link goes.")


class AggregateSerializer(serializers.Serializer):
    key = serializers.CharField()
    name_ja = serializers.CharField()
    name_en = serializers.CharField()
    mean = serializers.FloatField(help_text="Mean maturity 0–100 over the included results.")
    band = serializers.ChoiceField(choices=BAND_CHOICES)
    distribution = serializers.DictField(child=serializers.IntegerField(),
                                         help_text="Included results per band (starting … leading).")


class DiagnosisSummarySerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    version = serializers.CharField(help_text="Only results of this questionnaire version are counted.")
    k = serializers.IntegerField(help_text="Results are shown in whole blocks of k, and not at all below k.")
    n_results = serializers.IntegerField()
    n_included = serializers.IntegerField(help_text="The first whole blocks of k results, in stored order.")
    status = serializers.ChoiceField(choices=["ok", "suppressed_min_n"])
    elements = AggregateSerializer(many=True, allow_null=True)
    areas = AggregateSerializer(many=True, allow_null=True)
