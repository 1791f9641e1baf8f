"""How one value of the gap engine prints in a report: numbers, the engine's codes in words, item labels.

Numbers get a real minus sign and an em dash when undefined; shares print as whole percentages and their
differences as signed points. Used by the report's context (reports/context.py), so the PDF and the web
mirror print every value alike. Nothing here touches the database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

MINUS = "\u2212"  # a real minus sign: hyphens look like dashes in print
DASH = "\u2014"
SUPPRESSED = ("suppressed_anonymity", "suppressed_min_n", "suppressed_complementary")


# --------------------------------------------------------------------------- numbers


def is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number for print, or an em dash for an undefined value."""
    if not is_number(x):
        return DASH
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        # −0.00 reads as a direction; print 0.00.
        return text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def fmt_signed(x: Any, digits: int = 2) -> str:
    if not is_number(x):
        return DASH
    text = fmt_num(x, digits)
    if text.startswith(MINUS) or float(text) == 0:
        return text
    return "+" + text


def fmt_pct(p: Any) -> str:
    """A share 0–1 as a whole percentage, e.g. 0.8 → "80%"."""
    if not is_number(p):
        return DASH
    return f"{round(p * 100):d}%"


def fmt_pts(d: Any) -> str:
    """A difference of shares as signed percentage points, e.g. 0.72 → "+72"."""
    if not is_number(d):
        return DASH
    value = round(d * 100)
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else f"{MINUS}{abs(value)}"


def fmt_p(p: Any) -> str:
    if not is_number(p):
        return DASH
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def fmt_ci(low: Any, high: Any, fmt=fmt_signed) -> str:
    if not (is_number(low) and is_number(high)):
        return DASH
    return f"[{fmt(low)}, {fmt(high)}]"


# --------------------------------------------------------------------------- labels


def class_label(cls: str | None) -> str:
    return {
        "blind_spot": _("Blind spot"),
        "hidden_strength": _("Hidden strength"),
        "minor_gap": _("Minor gap"),
        "aligned": _("Aligned"),
        "inconclusive": _("Inconclusive"),
        "not_assessed": _("Not assessed"),
    }.get(cls or "not_assessed", _("Not assessed"))


def status_label(status: str | None, k_min: int) -> str:
    """The status code in words (docs/methods.md §5.3); empty for a plain "ok"."""
    if status in SUPPRESSED:
        return _("Fewer than %(k)s responses") % {"k": k_min}
    return {
        "ok": "",
        "ok_low_base": _("Low base"),
        "no_data": _("No responses"),
        "insufficient_data": _("Insufficient data"),
        "no_variance": _("No variance"),
    }.get(status or "", status or "")


def magnitude_label(magnitude: str | None) -> str:
    return {
        "negligible": _("negligible"),
        "small": _("small"),
        "medium": _("medium"),
        "large": _("large"),
    }.get(magnitude or "", DASH)


def item_label(item: Mapping[str, Any], language: str) -> str:
    """A short name for an item pair: its construct in English, else the staff wording."""
    construct = (item.get("construct") or "").strip()
    if construct and language == "en":
        return construct
    text = (item.get("staff_text") or item.get("customer_text") or item.get("key") or "").strip()
    return text


def short(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in "…" when cut.

    Text with spaces is cut at a word boundary (never mid-word); text without
    spaces (Japanese) is cut by characters.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:–—-") + "…"


REVERSE_SUFFIX = " (reverse-keyed)"
# Characters a chart row's label may take (the mirror chart's label column): the reverse-keyed marker included.
LABEL_BUDGET = {"en": 44, "ja": 22}


def reverse_marker(language: str) -> str:
    """The mark of a reverse-keyed item next to its label (explained in a note under each chart and table)."""
    return "（逆転）" if language == "ja" else " (reversed)"
