"""How a dimension's measurement-invariance verdict (docs/methods.md §3.5) reads on the mirror page and in the PDF.

One function for both, :func:`invariance_display`, called by :mod:`reports.context` per dimension row; the
templates show its ``badge`` beside the dimension and its ``detail`` as the badge's explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from reports.formatting import fmt_signed


def _level_label(level: str | None) -> str:
    return {
        "scalar": _("scalar: same loadings and intercepts"),
        "metric": _("metric only: same loadings, different intercepts"),
        "configural": _("configural only: same structure, different loadings"),
        "none": _("none: the one-factor structure does not fit"),
    }.get(level or "", "")


def _status_label(status: str | None) -> str:
    return {
        "not_testable": _("not testable: fewer than 3 questions"),
        "too_few": _("not tested: too few complete answers"),
        "not_estimable": _("not tested: the model could not be estimated"),
        "not_shown": _("not shown next to a hidden result"),
    }.get(status or "", "")


def invariance_display(dim: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's invariance display, or None when the view did not ask for it (``?invariance``).

    ``flag`` is True where the mean gap should not be read as a gap: the dimension was tested and did not reach
    scalar invariance. Untested dimensions are not flagged (nothing is known), their ``detail`` says why.
    """
    block = dim.get("invariance")
    if not block:
        return None
    status = block.get("status")
    tested = status == "tested"
    flag = tested and not block.get("mean_gap_interpretable")
    steps = {s.get("level"): s for s in block.get("steps") or []}
    scalar = steps.get("scalar") or {}
    detail = _level_label(block.get("level")) if tested else _status_label(status)
    if tested and scalar.get("delta_cfi") is not None:
        detail += _(" (scalar step: ΔCFI %(cfi)s, ΔRMSEA %(rmsea)s)") % {
            "cfi": fmt_signed(scalar.get("delta_cfi"), 3), "rmsea": fmt_signed(scalar.get("delta_rmsea"), 3)}
    return {
        "status": status,
        "tested": tested,
        "level": block.get("level"),
        "flag": flag,
        "badge": _("Gap not comparable") if flag else "",
        "detail": _("Measurement invariance: %(detail)s") % {"detail": detail} if detail else "",
    }
