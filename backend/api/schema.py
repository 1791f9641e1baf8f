"""The error shape of the whole API, as the OpenAPI schema documents it (``errs(400, 404)`` in a view)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorResponseSerializer(serializers.Serializer):
    """The one error shape. Validation errors add DRF's per-field messages next to these two keys."""

    detail = serializers.CharField()
    code = serializers.CharField()


ERROR_TEXT = {
    400: "Invalid input: per-field messages next to detail and code.",
    401: "Not authenticated.",
    403: "Your role does not allow this.",
    404: "Not found (or not visible to you).",
    409: "Conflicts with the current state (see code).",
    410: "Gone.",
    413: "Request body too large (an import: over KAGAMI_MAX_IMPORT_BYTES bytes or KAGAMI_IMPORT_MAX_ROWS rows).",
    415: "Unsupported or malformed body (send JSON, or multipart for file uploads).",
    429: "Too many failed attempts from this client; try again later (code login_locked_out).",
}


def errs(*codes: int, **texts: str) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation; ``texts`` (``e409="..."``) replace a default text."""
    return {code: OpenApiResponse(ErrorResponseSerializer, description=texts.get(f"e{code}", ERROR_TEXT[code]))
            for code in codes}


READ = (401, 403)  # lists with query filters add 400 (a bad filter value names the parameter)
DETAIL = (401, 403, 404)
WRITE = (400, 401, 403, 404, 413, 415)
