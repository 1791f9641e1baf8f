"""GET /api/v1/waves/<id>/gap/ — the gap analysis of one comparison view, as JSON."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.base import WAVE_PK, WaveNestedMixin
from backend.api.schema import DETAIL, errs
from reports import gap
from reports.api.gap_query import GapQuerySerializer
from reports.api.gap_serializers import GapAnalysisSerializer
from reports.filters import bootstrap_options, compare_wave_of, parse_filter_strings
from reports.selectors import REPORT_READERS

# The JSON body is cached next to the engine's result (reports.gap): serializing and encoding a whole
# analysis (about 120 kB) cost a repeated request more CPU than everything else it does. A new name here
# whenever the serializer's output or the encoding changes.
RENDER_NAME = "api-v4-json"  # v3: wave.kind and wave.department; v4: cached as the encoded JSON


def _render(result: dict) -> bytes:
    return JSONRenderer().render(GapAnalysisSerializer(result).data)


def _respond(request: Request, body: bytes) -> HttpResponse | Response:
    """The cached JSON as it is, when plain JSON was asked for; any other rendering (the browsable API, an
    ``indent`` parameter) from the decoded data."""
    renderer, media = request.accepted_renderer, request.accepted_media_type or ""
    if isinstance(renderer, JSONRenderer) and ";" not in media:
        return HttpResponse(body, content_type=f"{renderer.media_type}")
    return Response(json.loads(body))


class WaveGapView(WaveNestedMixin, APIView):
    read_roles = REPORT_READERS

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
            "back because their block gave fewer than k. An internal wave (a serving department's staff against the "
            "employees it serves) is shown per department only: `department=<key>` is required there. "
            "With `bootstrap=percentile|bca` each item also carries "
            "seeded bootstrap intervals of its gap, Cliff's delta and top-box difference (docs/methods.md §2.6). "
            "With `invariance=true` each dimension carries its measurement invariance between the sides "
            "(configural, metric, scalar fit indices and the level reached) and `mean_gap_interpretable`, "
            "false where the gap of the means should not be read as a gap (docs/methods.md §3.5)."
        ),
        parameters=[GapQuerySerializer, WAVE_PK],
        responses={200: GapAnalysisSerializer, **errs(400, *DETAIL)},
        tags=["gap"],
    )
    def get(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        query = GapQuerySerializer(data={
            "staff": request.query_params.getlist("staff"),
            "customer": request.query_params.getlist("customer"),
            **{k: request.query_params[k] for k in ("compare_wave", "weighted", "segments", "dimension_correction",
                                                     "lang", "bootstrap", "bootstrap_reps", "invariance",
                                                     "department")
               if k in request.query_params},
        })
        query.is_valid(raise_exception=True)
        params = query.validated_data
        boot = bootstrap_options(params.get("bootstrap"), params.get("bootstrap_reps"))
        view = gap.GapView(
            staff=parse_filter_strings(params["staff"], "staff"),
            customer=parse_filter_strings(params["customer"], "customer"),
            compare_wave=compare_wave_of(wave, params.get("compare_wave")),
            weighted=params["weighted"], segments=params["segments"], language=params["lang"],
            dimension_correction=params["dimension_correction"],
            bootstrap=boot["method"] if boot else None, bootstrap_reps=boot["n_resamples"] if boot else None,
            invariance=params["invariance"], department=params.get("department"))
        body = gap.gap_read(wave, view, user=request.user, via="api", render=_render, render_name=RENDER_NAME)
        return _respond(request, body)
