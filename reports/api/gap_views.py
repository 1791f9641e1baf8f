"""GET /api/v1/waves/<id>/gap/ — the gap analysis of one comparison view, as JSON."""

from __future__ import annotations

import hashlib
import json

from django.core.cache import cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.gap_serializers import GapAnalysisSerializer, GapQuerySerializer
from reports.filters import parse_filter_strings
from surveys import errors, releases
from surveys import services as survey_services
from surveys.models import AuditEvent, Role, Wave

GAP_READERS = (Role.ADMIN, Role.ANALYST, Role.EXECUTIVE)
CACHE_SECONDS = 24 * 3600


def visible_wave(request: Request, pk: int | str, roles=GAP_READERS) -> Wave:
    """A wave of one of the user's organizations where they hold one of ``roles``; 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise errors.NotFound() from None
    wave = (
        Wave.objects.select_related("organization", "instrument")
        .filter(pk=pk, organization__memberships__user=request.user, organization__memberships__role__in=roles)
        .first()
    )
    if wave is None:
        raise errors.NotFound()
    return wave


_ERROR = OpenApiResponse(description='Error: {"detail": "...", "code": "..."}')


class WaveGapView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="waves_gap_retrieve",
        summary="Gap analysis of a wave (staff vs customers)",
        description=(
            "Every item pair, dimension and outcome of the wave for one comparison view: one staff group "
            "(all staff, or `staff=field:value` filters) against one customer group. Follows docs/methods.md §11. "
            "Only published responses count, and every view is a union of released blocks of at least k "
            "respondents (docs/anonymity.md). A selection that is not released shows as suppressed: its status, "
            "and no number at all. `release` says which release of each side the numbers show; an entry's "
            "`withheld` counts the respondents of the view whose answers to that item or dimension are held "
            "back because their block gave fewer than k."
        ),
        parameters=[
            GapQuerySerializer,
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        responses={200: GapAnalysisSerializer, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR},
        tags=["gap"],
    )
    def get(self, request: Request, pk: str) -> Response:
        wave = visible_wave(request, pk)
        query = GapQuerySerializer(data={
            "staff": request.query_params.getlist("staff"),
            "customer": request.query_params.getlist("customer"),
            **{k: request.query_params[k] for k in ("compare_wave", "weighted", "segments",
                                                     "dimension_correction", "lang") if k in request.query_params},
        })
        query.is_valid(raise_exception=True)
        params = query.validated_data
        staff_filter = parse_filter_strings(params["staff"], "staff")
        customer_filter = parse_filter_strings(params["customer"], "customer")
        compare = None
        if params.get("compare_wave"):
            compare = Wave.objects.filter(pk=params["compare_wave"], organization=wave.organization).first()
            if compare is None:
                raise errors.ValidationFailed(field_errors={"compare_wave": ["Unknown wave."]})
        options = {
            "staff": staff_filter, "customer": customer_filter, "compare": compare.pk if compare else None,
            "weighted": params["weighted"], "segments": params["segments"],
            "correction": params["dimension_correction"], "lang": params["lang"],
            "thresholds": [wave.anonymity_threshold, wave.customer_threshold],
        }
        # numpy/pandas/scipy load on the first gap request, not at URL import (fast start-up).
        from reports import counts, services

        # Publish what is due before the cache key is taken: a cached answer is then the current release's.
        releases.publish_due(wave)
        if compare is not None:
            releases.publish_due(compare)
        fingerprint = counts.analysis_fingerprint(wave) + (
            "|" + counts.analysis_fingerprint(compare) if compare else "")
        key = "gap:" + hashlib.sha256(json.dumps([fingerprint, options], sort_keys=True).encode()).hexdigest()
        # Every read of staff-derived data is audited (disclosure promise P7): who, when, which view.
        survey_services.audit_record(
            organization_id=wave.organization_id, user=request.user, action=AuditEvent.Action.GAP_VIEW,
            wave=wave, details={"staff": staff_filter, "customer": customer_filter, "segments": params["segments"],
                                "compare_wave": options["compare"], "weighted": params["weighted"]},
        )
        body = cache.get(key)
        if body is None:
            result = services.gap_analysis(
                wave=wave, staff_filter=staff_filter, customer_filter=customer_filter, compare_wave=compare,
                weighted=params["weighted"], segments=params["segments"], language=params["lang"],
                dimension_correction=params["dimension_correction"],
            )
            body = GapAnalysisSerializer(result).data
            cache.set(key, body, CACHE_SECONDS)
        return Response(body)
