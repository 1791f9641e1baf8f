"""Serializers of the public JSON form API (the embeddable twin of the HTML forms)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.models import ItemKind, Language, Side
from surveys.services import MAX_COMMENT_LENGTH

# ------------------------------------------------------------------ form definition (responses)


class PublicFormWaveSerializer(serializers.Serializer):
    slug = serializers.CharField()
    company = serializers.CharField(help_text="The company's name in the form's language.")
    title = serializers.CharField(help_text="The survey's title for this side in the form's language: the wave's "
                                            "<side>_title_<lang>, else a default naming the company.")
    description = serializers.CharField(
        allow_blank=True, help_text="The survey's introduction for this side (the wave's <side>_intro_<lang>, else "
                                    "a default); paragraphs are separated by blank lines.")


class PublicFormLevelSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField(allow_blank=True, help_text="Empty for unlabelled middle points of NPS.")


class PublicFormItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    text = serializers.CharField(help_text="The wording for this side and language, {company} filled in.")
    dimension = serializers.CharField(allow_blank=True, help_text="Section title; outcome items share one.")
    is_headline = serializers.BooleanField()
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    levels = PublicFormLevelSerializer(many=True)
    allow_na = serializers.BooleanField(help_text='When true, "na" is an accepted answer.')
    na_label = serializers.CharField(allow_null=True)
    required = serializers.BooleanField()


class PublicSegmentOptionSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What to send (and what is stored).")
    label = serializers.CharField(help_text="What to show, in the form's language.")


class PublicSegmentFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), help_text="Empty: free text (max 120).")
    options = PublicSegmentOptionSerializer(many=True, help_text="The choices with their labels, in order.")
    required = serializers.BooleanField()


class PublicDepartmentSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class PublicFormDefinitionSerializer(serializers.Serializer):
    wave = PublicFormWaveSerializer()
    side = serializers.ChoiceField(choices=Side.choices)
    language = serializers.ChoiceField(choices=Language.choices)
    languages = serializers.ListField(child=serializers.CharField(), help_text="Languages offered: ja, en.")
    items = PublicFormItemSerializer(many=True)
    segment_fields = PublicSegmentFieldSerializer(
        many=True, help_text="Anonymous links only: the segment questions the wave asks on this link.")
    anonymity_statement = serializers.ListField(
        child=serializers.CharField(), help_text="Staff forms: how anonymity is protected (paragraphs). Else empty."
    )
    comment_max_length = serializers.IntegerField()
    departments = PublicDepartmentSerializer(
        many=True, required=False,
        help_text="Internal waves only (else empty): the serving departments this respondent may rate; submit "
                  "their answers as ratings (department key → answers) instead of answers. Staff see only their "
                  "own department.")
    ticket = serializers.CharField(
        allow_null=True,
        help_text="Staff anonymous link only (else null): a single-use ticket, valid for a few hours, that the "
                  "POST must send back as ticket. Fetch the form again for each submission.",
    )


# ------------------------------------------------------------------ submission (requests)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["na"]}],
        "nullable": True,
        "description": 'A scale value, or "na" for "don\'t know / not applicable" where the item allows it.',
    }
)
class PublicAnswerValueField(serializers.Field):
    """Passes the raw value on: the service checks it against the item (one rule for every interface)."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class PublicInvitationSubmissionSerializer(serializers.Serializer):
    answers = serializers.DictField(child=PublicAnswerValueField(allow_null=True), required=False,
                                    help_text="Item key → value or \"na\". Every item needs an answer. Required, "
                                              "except on an internal wave (which takes ratings).")
    ratings = serializers.DictField(
        child=serializers.DictField(child=PublicAnswerValueField(allow_null=True)), required=False,
        help_text="Internal waves only: department key → answers (item key → value or \"na\") for each "
                  "department rated (employees: at least one; staff: their own).")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_COMMENT_LENGTH, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class PublicAnonymousSubmissionSerializer(PublicInvitationSubmissionSerializer):
    segments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=120),
        required=False, default=dict,
        help_text="Segment key → value (see segment_fields); all optional; a field not asked on this link is a 400.",
    )
    ticket = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False,
        help_text="Required on the staff link: the ticket returned by the GET of this form; stores one response.",
    )


class PublicSubmissionReceiptSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    language = serializers.ChoiceField(choices=Language.choices)
    submitted_on = serializers.DateField()


class PublicFormQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(choices=Language.choices, required=False)


# ------------------------------------------------------------------ errors (documentation only)


class PublicErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class PublicValidationErrorSerializer(PublicErrorSerializer):
    """``detail`` and ``code``, plus one list of messages per bad field (``answers.<key>``, ``comment`` …).

    The field names depend on the form, so they are additional properties of this object.
    """
