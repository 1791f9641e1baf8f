"""The gap of one comparison view as users read it: the one service the API and the web pages call.

It publishes what is due, computes the engine's result (:func:`reports.services.gap_analysis`) or
reuses it, and audits the read (docs/anonymity.md, P7). It owns the gap-result cache: the key is the
wave's (and comparison wave's) analysis fingerprint (:func:`reports.counts.analysis_fingerprint`, which
changes with every release, invitation, threshold or setting that changes a number) plus the view's
options, so a cached result is always the current release's and nothing needs invalidating.

Why the cache pays: a repeated view costs one cache read instead of the statistics on kept counts
(bench/RESULTS.md, 1,000,000 responses: kept counts 1.79 s, HTTP repeat 21 ms). A caller may pass a
``render`` (the API's serializer): its output is cached next to the result, as rendering a whole
analysis is itself a cost on every repeat.

Light at import (no numpy): the engine loads on the first computed view.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from reports.filters import check_compare_wave
from surveys import internal, releases
from surveys import services as survey_services
from surveys.models import AuditEvent, Language, Wave

CACHE_SECONDS = 24 * 3600
# The shape of the engine's result. Part of every cache key, so that an analysis cached by an earlier release is
# never handed to a later release's serializer (which would find its new sections missing): raise it whenever
# gap_analysis gains, loses or renames a field. 2: health, touchpoints, alpha intervals, DiD fields (2026-12-07).
# 3: a class needs the adjusted Mann–Whitney p as well, the top-box DiD interval is MOVER (2026-12-07).
# 4: wave.kind and wave.department (internal waves).
# 5: drivers (key drivers and importance–performance grids).
ANALYSIS_FORMAT = 5


@dataclass(frozen=True)
class GapView:
    """One comparison view: which staff and customers, against which earlier wave, how computed and told."""

    staff: Mapping[str, str] = field(default_factory=dict)
    customer: Mapping[str, str] = field(default_factory=dict)
    compare_wave: Wave | None = None
    weighted: bool = False
    segments: bool = True
    language: str = Language.EN
    dimension_correction: str = "holm"
    # Opt-in bootstrap intervals of the items (docs/methods.md §2.6): a method and its number of resamples.
    bootstrap: str | None = None
    bootstrap_reps: int | None = None
    # Opt-in measurement invariance of each dimension between the sides (docs/methods.md §3.5).
    invariance: bool = False
    # Internal waves: the serving department shown (surveys/internal.py); required there, None elsewhere.
    department: str | None = None

    def audit_details(self) -> dict[str, Any]:
        details = {"staff": dict(self.staff), "customer": dict(self.customer), "segments": self.segments,
                   "compare_wave": self.compare_wave.pk if self.compare_wave else None, "weighted": self.weighted}
        if self.department is not None:
            details["department"] = self.department
        return details


def cache_keys(wave: Wave, view: GapView, render_name: str) -> tuple[str, str]:
    """The cache keys of the engine's result and of its rendering: the fingerprints are read once (on
    SQLite a fingerprint is a scan of the wave's aggregates)."""
    from reports import counts

    compare = view.compare_wave
    fingerprint = counts.analysis_fingerprint(wave) + ("|" + counts.analysis_fingerprint(compare) if compare else "")
    parts = [ANALYSIS_FORMAT, fingerprint, dict(view.staff), dict(view.customer), compare.pk if compare else None,
             view.weighted, view.segments, view.language, view.dimension_correction,
             [wave.anonymity_threshold, wave.customer_threshold]]
    if view.bootstrap is not None:  # only when asked for: without it every key is what it always was
        parts.append({"bootstrap": view.bootstrap, "bootstrap_reps": view.bootstrap_reps})
    if view.invariance:  # the same: only when asked for
        parts.append({"invariance": True})
    if view.department is not None:  # internal waves only: external keys stay what they were
        parts.append({"department": view.department})

    def key(name: str) -> str:
        return "gap:" + hashlib.sha256(json.dumps([*parts, name], sort_keys=True).encode()).hexdigest()

    return key(""), key(render_name)


def gap_result(wave: Wave, view: GapView, *, render: Callable[[dict], Any] | None = None,
               render_name: str = "") -> Any:
    """The engine's result of ``view`` (or ``render`` of it), computed once per data version. Not audited:
    for callers that audit themselves (a report job is audited when requested)."""
    from reports import services  # numpy/pandas/scipy on the first computed view, not at import

    check_compare_wave(wave, view.compare_wave)
    internal.check_department(wave, view.department)
    # Publish what is due before the key is taken: a cached answer is then the current release's.
    releases.publish_due(wave)
    if view.compare_wave is not None:
        releases.publish_due(view.compare_wave)
    key, rendered_key = cache_keys(wave, view, render_name)
    if render is not None:
        rendered = cache.get(rendered_key)
        if rendered is not None:
            return rendered
    result = cache.get(key)
    if result is None:
        result = services.gap_analysis(
            wave=wave, staff_filter=view.staff, customer_filter=view.customer, compare_wave=view.compare_wave,
            weighted=view.weighted, segments=view.segments, language=view.language,
            dimension_correction=view.dimension_correction, bootstrap=view.bootstrap,
            bootstrap_reps=view.bootstrap_reps, invariance=view.invariance, department=view.department)
        cache.set(key, result, CACHE_SECONDS)
    if render is None:
        return result
    rendered = render(result)
    cache.set(rendered_key, rendered, CACHE_SECONDS)
    return rendered


def gap_read(wave: Wave, view: GapView, *, user: Any, via: str, render: Callable[[dict], Any] | None = None,
             render_name: str = "") -> Any:
    """:func:`gap_result`, audited as a read of staff-derived data by ``user`` through ``via`` (P7).

    Audited once the view is known to be valid (a refused filter read nothing) and before it is returned.
    """
    result = gap_result(wave, view, render=render, render_name=render_name)
    survey_services.audit_record(
        organization_id=wave.organization_id, user=user, action=AuditEvent.Action.GAP_VIEW, wave=wave,
        details={"via": via, **view.audit_details()})
    return result


def segment_difference_read(wave: Wave, *, user: Any, via: str, side: str, field: str, first: str, second: str,
                            language: str = Language.EN, department: str | None = None) -> dict[str, Any]:
    """Does one segment's gap differ from another's (docs/methods.md §6), audited as a read (P7)."""
    from reports import services

    result = services.segment_difference(wave=wave, side=side, field=field, first=first, second=second,
                                         language=language, department=department)
    survey_services.audit_record(  # both sides compare with staff: a read of staff-derived data
        organization_id=wave.organization_id, user=user, action=AuditEvent.Action.SEGMENT_DIFFERENCE, wave=wave,
        details={"via": via, "side": side, "field": field, "first": first, "second": second,
                 **({"department": department} if department else {})})
    return result
