"""One error shape for the whole API: ``{"detail": "...", "code": "..."}``.

DRF validation errors keep their per-field messages next to ``detail`` and
``code``; domain errors from services (surveys.errors.KagamiError) are mapped
here, so views never translate exceptions themselves.
"""

from __future__ import annotations

import traceback
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from surveys.errors import ImportFailed, KagamiError, PayloadTooLarge


def _first_code(codes: Any) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return "invalid"


def _from_json_decoder(exc: BaseException) -> bool:
    return any("/json/" in frame.filename for frame in traceback.extract_tb(exc.__traceback__))


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RecursionError) and _from_json_decoder(exc):
        # json.loads recurses once per nesting level: {"a":{"a":…}} 100,000 deep is a bad body, not a 500.
        exc = exceptions.ParseError("The JSON body is nested too deeply.")
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the API's 413, not an HTML 400.
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError("The request has too many fields.")
    if isinstance(exc, KagamiError):
        body: dict[str, Any] = {"detail": exc.detail, "code": exc.code}
        if isinstance(exc, ImportFailed):
            body["errors"] = exc.errors
        body.update(exc.field_errors)
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        body = {"detail": "Some values are not valid.", "code": _first_code(exc.get_codes())}
        body.update(fields)
        response.data = body
    elif isinstance(exc, exceptions.APIException):
        detail = response.data.get("detail", exc.detail) if isinstance(response.data, dict) else exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        response.data = {"detail": str(detail), "code": code}
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data["code"] = "method_not_allowed"
    return response
