"""How the organization's staff and customers saw the diagnosis's areas, from its latest closed wave.

Only for a result that came through an organization's link that is still active (the organization's
admins chose to hand that link out); never for the anonymous /diagnosis/. The figures are the gap
engine's, read through the one public entry (reports.gap.gap_read, audited with via="diagnosis"):
nothing here computes a staff figure. An entry shows its means and gap only when the engine's status
says the comparison is reportable; otherwise it shows only why not (a side below its threshold).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from diagnosis.models import DiagnosisResult
from diagnosis.questions import AREAS, MIRROR_DIMENSIONS
from diagnosis.selectors import latest_closed_wave
from reports import gap

# The engine's statuses that carry both sides' means (docs/methods.md §5.3); every other one shows no number.
REPORTABLE = frozenset({"ok", "ok_low_base", "no_variance"})
VIA = "diagnosis"


def _entry(dimension: dict[str, Any]) -> dict[str, Any]:
    status = dimension.get("report_status")
    reportable = status in REPORTABLE and dimension.get("mean_staff") is not None \
        and dimension.get("mean_customer") is not None
    return {
        "key": dimension["key"], "name": dimension["name"], "status": status, "reportable": reportable,
        "mean_staff": dimension["mean_staff"] if reportable else None,
        "mean_customer": dimension["mean_customer"] if reportable else None,
        "gap": dimension["gap"] if reportable else None,
    }


def mirror_comparison(result: DiagnosisResult, language: str) -> dict[str, Any] | None:
    """The comparison for ``result``, or None when it did not come through an active organization link."""
    if result.link_id is None or result.organization_id is None:
        return None
    link = result.link
    if link is None or not link.is_active or link.organization_id != result.organization_id:
        return None
    wave = latest_closed_wave(result.organization_id)
    if wave is None:
        return {"wave": None, "staff_k": None, "customer_k": None, "areas": []}
    analysis = gap.gap_read(wave, gap.GapView(language=language, segments=False), user=None, via=VIA)
    dimensions = {d["key"]: d for d in analysis["dimensions"]}
    areas = []
    for area in AREAS:
        found = [_entry(dimensions[key]) for key in MIRROR_DIMENSIONS[area.key] if key in dimensions]
        if found:
            areas.append({"key": area.key, "name": area.name(language), "dimensions": found})
    return {
        "wave": {"name": wave.name,
                 "closed_on": timezone.localdate(wave.closed_at).isoformat() if wave.closed_at else None},
        "staff_k": analysis["thresholds"]["staff_k_min"],
        "customer_k": analysis["thresholds"]["customer_k_min"],
        "areas": areas,
    }
