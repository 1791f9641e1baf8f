"""The public JSON twin of the diagnosis (mounted at /api/v1/public/diagnosis/): no login, no session, no CSRF.

The same rules as the pages: ``services.result_submit`` checks and stores, ``present`` builds the
result, an organization's link token is looked up by its hash. Guards are the public forms'
(surveys.public.throttling): posts count towards the flood ceiling, bodies are size-checked before
parsing, and an unknown token or result is a 404 counted against the address's failure budget.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from diagnosis import selectors, services
from diagnosis.present import questionnaire, result_payload
from diagnosis.serializers import (
    LanguageQuerySerializer,
    QuestionnaireSerializer,
    ResultSerializer,
    SubmissionSerializer,
)
from surveys import errors
from surveys.public import throttling
from surveys.public.serializers import PublicErrorSerializer, PublicValidationErrorSerializer

LANG = OpenApiParameter("lang", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["ja", "en"], required=False,
                        description="Language of the wording; defaults to English (questions) or the result's own.")
RESULT_ID = OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The result's id.")
E404 = OpenApiResponse(PublicErrorSerializer, description="Unknown (or switched-off) link token, or result.")
E429 = OpenApiResponse(PublicErrorSerializer, description="Too many requests from this address.")
E400 = OpenApiResponse(PublicValidationErrorSerializer, description=(
    "Bad input: one message list per field — language, token, answers, or answers.<item key> (missing, not a "
    "whole number, outside 1–5, or not an item of the questionnaire). Nothing is stored."))


class PublicDiagnosisAPIView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    counts_reads = False  # a result read counts towards the flood ceiling (it reads and audits the gap)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        throttling.check_rate_limit(request, count=request.method == "POST" or self.counts_reads)
        if request.method == "POST":
            throttling.check_body_size(request)  # before the body is parsed

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, errors.NotFound):
            try:
                throttling.refuse_unknown_link(self.request)
            except throttling.RateLimited as limited:
                exc = limited
        elif isinstance(exc, errors.PayloadTooLarge):
            throttling.record_failure(self.request)
        response = super().handle_exception(exc)
        if isinstance(exc, throttling.RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    def language(self, request: Request, default: str) -> str:
        query = LanguageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("lang") or default


class QuestionsAPIView(PublicDiagnosisAPIView):
    @extend_schema(operation_id="public_diagnosis_questions", summary="The diagnosis questionnaire",
                   description="Three elements, ten areas and fifteen statements on a 1–5 agreement scale, in "
                               "the asked language (docs/diagnosis.md).",
                   parameters=[LANG], responses={200: QuestionnaireSerializer, 400: E400, 429: E429},
                   tags=["diagnosis"])
    def get(self, request: Request) -> Response:
        return Response(QuestionnaireSerializer(questionnaire(self.language(request, "en"))).data)


class ResultsAPIView(PublicDiagnosisAPIView):
    @extend_schema(
        operation_id="public_diagnosis_submit", summary="Submit a diagnosis and get its result",
        description=("Every statement needs an answer 1–5 (a diagnosis with gaps is not comparable). Stored "
                     "anonymously with the day only. With an organization's link `token` the result counts in "
                     "that organization's aggregate and carries how its staff and customers saw the same areas."),
        request=SubmissionSerializer,
        responses={201: ResultSerializer, 400: E400, 404: E404, 429: E429,
                   413: OpenApiResponse(PublicErrorSerializer, description="Request body too large."),
                   415: OpenApiResponse(PublicErrorSerializer, description="Body is not JSON.")},
        tags=["diagnosis"])
    def post(self, request: Request) -> Response:
        serializer = SubmissionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        link = selectors.active_link(data["token"]) if data.get("token") else None
        result = services.result_submit(answers=data["answers"], language=data["language"], link=link)
        return Response(ResultSerializer(result_payload(result, data["language"])).data,
                        status=status.HTTP_201_CREATED)


class ResultAPIView(PublicDiagnosisAPIView):
    counts_reads = True

    @extend_schema(operation_id="public_diagnosis_result", summary="One diagnosis result",
                   description="The same result as the page /diagnosis/r/<id>/.",
                   parameters=[LANG, RESULT_ID], responses={200: ResultSerializer, 400: E400, 404: E404, 429: E429},
                   tags=["diagnosis"])
    def get(self, request: Request, uuid: str) -> Response:
        result = selectors.result_by_uuid(uuid)
        language = self.language(request, result.language)
        return Response(ResultSerializer(result_payload(result, language)).data)
