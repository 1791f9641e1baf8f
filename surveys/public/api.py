"""The JSON twin of the public forms, for embedding a survey in a customer's own app.

Unauthenticated: the token (or the anonymous link) is the credential, so no
session and no CSRF. Submissions call ``services.response_submit``, the same
rule as the HTML form; domain errors become ``{"detail", "code"}`` through
backend/api/errors.py. The staff anonymous link's GET returns a single-use
``ticket`` that its POST must send back, and its posts are capped per client
address (surveys/public/tickets.py): 403 ``ticket_*`` or 429, nothing stored.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys import errors, internal, respondents, services
from surveys.models import Channel, Language, Side
from surveys.public import throttling, tickets
from surveys.public.forms import (
    NA,
    anonymity_statement,
    dimension_title,
    item_text,
    na_label,
    ordered_items,
    pick_language,
    scale_choices,
)
from surveys.public.links import Target, resolve_anonymous
from surveys.public.serializers import (
    PublicAnonymousSubmissionSerializer,
    PublicErrorSerializer,
    PublicFormDefinitionSerializer,
    PublicFormQuerySerializer,
    PublicInvitationSubmissionSerializer,
    PublicSubmissionReceiptSerializer,
    PublicValidationErrorSerializer,
)


def form_definition(target: Target, language: str) -> dict[str, Any]:
    """Everything an embedding app needs to draw the form, in ``language``."""
    wave = target.wave
    items = []
    for item in ordered_items(wave, target.side):
        items.append({
            "key": item.key,
            "kind": item.kind,
            "text": item_text(item, target.side, language, wave),
            "dimension": dimension_title(item, language),
            "is_headline": item.is_headline,
            "scale_min": item.scale_min,
            "scale_max": item.scale_max,
            "levels": [{"value": v, "label": label} for v, label in scale_choices(item, language)],
            "allow_na": item.allow_na,
            "na_label": na_label(language) if item.allow_na else None,
            "required": True,
        })
    segment_fields = []
    if target.anonymous:
        for spec in respondents.anonymous_segment_fields(wave, target.side):
            options = respondents.choice_options(spec, language)
            segment_fields.append({
                "key": str(spec.get("key", "")),
                "label": respondents.field_label(spec, language),
                "choices": [value for value, _label in options],
                "options": [{"value": value, "label": label} for value, label in options],
                "required": False,
            })
    return {
        "wave": {
            "slug": wave.slug,
            "company": wave.organization.company_name(language),
            "title": respondents.respondent_title(wave, target.side, language),
            "description": respondents.respondent_intro(wave, target.side, language),
        },
        "side": target.side,
        "language": language,
        "languages": [code for code in wave.languages if code in Language.values],
        "items": items,
        "segment_fields": segment_fields,
        "anonymity_statement": (
            anonymity_statement(wave, invited=not target.anonymous, language=language, side=target.side)
            if internal.protected_side(wave, target.side) else []
        ),
        "comment_max_length": services.MAX_COMMENT_LENGTH,
        "departments": _departments(target, language),
        "ticket": tickets.issue(wave, target.side) if target.guarded else None,
    }


def _departments(target: Target, language: str) -> list[dict[str, str]]:
    """The departments an internal wave's respondent may rate: every one for an employee, their own for staff."""
    wave = target.wave
    keys = internal.department_keys(wave)
    if target.side == Side.STAFF and target.invitation is not None:
        own = str(target.invitation.segments.get(internal.DEPARTMENT_FIELD, ""))
        keys = [k for k in keys if k == own]
    return [{"key": key, "label": internal.department_label(wave, key, language)} for key in keys]


_LANG_PARAM = OpenApiParameter(
    "lang", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["ja", "en"], required=False,
    description="Language of the wording and labels; defaults to the invitee's (or the wave's) language.",
)
_ERRORS = {
    404: OpenApiResponse(PublicErrorSerializer, description="Unknown link (says nothing more)."),
    409: OpenApiResponse(PublicErrorSerializer, description="Already answered (code already_answered)."),
    410: OpenApiResponse(PublicErrorSerializer, description=(
        "The wave is not open (code wave_closed); invitation links also: an admin reissued the invitation and "
        "a newer e-mail replaced this link (code link_replaced).")),
    429: OpenApiResponse(PublicErrorSerializer, description="Too many requests from this address."),
}
_GET_RESPONSES = {
    200: PublicFormDefinitionSerializer,
    400: OpenApiResponse(PublicValidationErrorSerializer, description="Unknown value of lang."),
    **_ERRORS,
}
_POST_RESPONSES = {
    201: PublicSubmissionReceiptSerializer,
    400: OpenApiResponse(PublicValidationErrorSerializer,
                         description="Bad answers: one message list per field, e.g. answers.<item key>."),
    **_ERRORS,
    413: OpenApiResponse(PublicErrorSerializer, description="Request body too large."),
    415: OpenApiResponse(PublicErrorSerializer, description="Body is not JSON."),
}
_ANONYMOUS_POST_RESPONSES = {
    **_POST_RESPONSES,
    403: OpenApiResponse(PublicValidationErrorSerializer, description=(
        "Staff link only: the ticket is missing, not this form's, expired or already used (code ticket_missing, "
        "ticket_invalid, ticket_expired, ticket_used; the message is also under the key ticket). Nothing was "
        "stored: GET the form for a new ticket.")),
    429: OpenApiResponse(PublicErrorSerializer, description=(
        "Too many requests from this address; on the staff link also: the address has stored as many "
        "responses to this wave in 24 hours as allowed (code staff_link_address_limit).")),
}


class PublicFormAPIView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    submission_serializer_class: type = PublicInvitationSubmissionSerializer

    def resolve(self, **kwargs) -> Target:
        raise NotImplementedError

    def preferred_language(self, target: Target) -> str | None:
        return target.invitation.language if target.invitation else None

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Before the body is parsed: an oversized body is refused unread.
        throttling.check_rate_limit(request, count=request.method == "POST")
        if request.method == "POST":
            throttling.check_body_size(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, errors.NotFound):
            try:
                throttling.refuse_unknown_link(self.request)  # 429 once the address is over its failure budget
            except throttling.RateLimited as limited:
                exc = limited
        elif isinstance(exc, errors.PayloadTooLarge | errors.AlreadyAnswered):
            if not isinstance(exc, errors.AlreadyAnswered) or self.request.method == "POST":
                throttling.record_failure(self.request)
        response = super().handle_exception(exc)
        if isinstance(exc, throttling.RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    def check_open(self, request: Request, target: Target) -> None:
        if target.anonymous and internal.is_internal(target.wave):
            raise errors.NotFound()  # internal waves are answered by invitation only (surveys/internal.py)
        if not target.wave.is_collecting:
            raise errors.WaveNotCollecting()
        if target.invitation is not None and target.invitation.is_used:
            raise errors.AlreadyAnswered()
        if target.anonymous and throttling.has_answered(request, target.wave, target.side):
            raise errors.AlreadyAnswered()
        if target.guarded:
            tickets.check_address(request, target.wave)

    def get(self, request: Request, **kwargs) -> Response:
        query = PublicFormQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = self.resolve(**kwargs)
        self.check_open(request, target)
        language = pick_language(target.wave, query.validated_data.get("lang"), self.preferred_language(target))
        response = Response(PublicFormDefinitionSerializer(form_definition(target, language)).data)
        if target.guarded:
            add_never_cache_headers(response)  # the ticket is for one respondent: never from a shared cache
        return response

    def post(self, request: Request, **kwargs) -> Response:
        target = self.resolve(**kwargs)
        self.check_open(request, target)
        serializer = self.submission_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if target.anonymous:
            unasked = respondents.unasked_segment_problems(target.wave, target.side, data.get("segments"))
            if unasked:
                raise errors.ValidationFailed("Some segment values are not valid.", field_errors=unasked)
        language = pick_language(target.wave, data.get("language"), self.preferred_language(target))
        if internal.is_internal(target.wave):
            return self.post_internal(target, data, language)
        if "answers" not in data:
            raise errors.ValidationFailed(field_errors={"answers": ["This field is required."]})
        with tickets.guarded_submission(request, target.wave, target.side, anonymous=target.anonymous,
                                        ticket=data.get(tickets.TICKET_FIELD)):
            response = services.response_submit(
                wave=target.wave,
                side=target.side,
                answers={key: (NA if isinstance(v, str) and v.strip().lower() == NA else v)
                         for key, v in data["answers"].items()},
                language=language,
                channel=Channel.API,
                comment=data.get("comment", ""),
                segments=data.get("segments") if target.anonymous else None,
                invitation=target.invitation,
                anonymous_link_id=target.link_id,
            )
        receipt = {"received": True, "language": response.language, "submitted_on": response.submitted_on}
        result = Response(PublicSubmissionReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)
        if target.anonymous:
            throttling.mark_answered(result, target.wave, target.side, secure=request.is_secure())
        return result


    def post_internal(self, target: Target, data: dict, language: str) -> Response:
        """An internal wave's submission: one row per department rated (services.internal_submit)."""
        if "ratings" not in data:
            raise errors.ValidationFailed(field_errors={"ratings": [
                "An internal wave takes ratings: department key → answers."]})
        stored = services.internal_submit(
            wave=target.wave, side=target.side, language=language, invitation=target.invitation,
            channel=Channel.API,  # as any JSON submission: its segments count as self-declared (P5)
            ratings={department: {key: (NA if isinstance(v, str) and v.strip().lower() == NA else v)
                                  for key, v in answers.items()}
                     for department, answers in data["ratings"].items()})
        receipt = {"received": True, "language": stored[0].language, "submitted_on": stored[0].submitted_on}
        return Response(PublicSubmissionReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)


class PublicInvitationFormAPIView(PublicFormAPIView):
    def resolve(self, **kwargs) -> Target:
        invitation = services.invitation_by_token(token=kwargs["token"])
        return Target(wave=invitation.wave, side=invitation.side, invitation=invitation)

    @extend_schema(operation_id="public_form_retrieve", summary="The form of an invitation link",
                   tags=["public"], parameters=[_LANG_PARAM], responses=_GET_RESPONSES)
    def get(self, request: Request, **kwargs) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(operation_id="public_form_submit", summary="Submit the answers of an invitation link",
                   tags=["public"], request=PublicInvitationSubmissionSerializer, responses=_POST_RESPONSES)
    def post(self, request: Request, **kwargs) -> Response:
        return super().post(request, **kwargs)


_SIDE_PARAM = OpenApiParameter("side", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["staff", "customer"])


class PublicAnonymousFormAPIView(PublicFormAPIView):
    submission_serializer_class = PublicAnonymousSubmissionSerializer

    def resolve(self, **kwargs) -> Target:
        return resolve_anonymous(kwargs["slug"], kwargs["side"])

    @extend_schema(operation_id="public_wave_form_retrieve", summary="The form of an anonymous link",
                   tags=["public"], parameters=[_SIDE_PARAM, _LANG_PARAM], responses=_GET_RESPONSES)
    def get(self, request: Request, **kwargs) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(operation_id="public_wave_form_submit", summary="Submit the answers of an anonymous link",
                   tags=["public"], parameters=[_SIDE_PARAM], request=PublicAnonymousSubmissionSerializer,
                   responses=_ANONYMOUS_POST_RESPONSES)
    def post(self, request: Request, **kwargs) -> Response:
        return super().post(request, **kwargs)
