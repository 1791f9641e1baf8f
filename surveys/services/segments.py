"""The one rule for segment values (answers, invitations, imports and analysis filters alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys import errors, internal
from surveys.models import Wave


def segment_choice_problem(field: Mapping[str, Any], value: str) -> str | None:
    """Why ``value`` cannot be a value of the segment ``field``, or None.

    The one rule for answers, invitations and analysis filters alike: a field with
    configured choices takes only those. A free-text field (no choices) takes any
    value, and a filter on one that nobody has must look like any group under k:
    refusing it would tell the caller which values exist.
    """
    choices = [str(c) for c in field.get("choices") or []]
    if choices and value not in choices:
        return f"'{value}' is not one of: {', '.join(choices)}."
    return None


def clean_segments(*, wave: Wave, side: str, segments: Mapping[str, Any] | None, strict: bool = True) -> dict:
    """Keep only the wave's configured segment fields for ``side``; check values against their choices.

    Raises ValidationFailed naming the field when ``strict`` and a value is not allowed.
    """
    segments = dict(segments or {})
    fields = {f["key"]: f for f in wave.segment_fields(side)}
    cleaned: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for key, value in segments.items():
        if key == internal.DEPARTMENT_FIELD and internal.is_internal(wave) and side == "staff":
            # The staff member's own serving department, from the roster (surveys/internal.py).
            if str(value) not in internal.department_keys(wave):
                problems[f"segments.{key}"] = ["Unknown department; one of: "
                                               + ", ".join(internal.department_keys(wave)) + "."]
            else:
                cleaned[key] = str(value)
            continue
        if key not in fields:
            if strict:
                problems[f"segments.{key}"] = [f"'{key}' is not a {side} segment field of this wave."]
            continue
        if value in (None, ""):
            continue
        text = str(value).strip()[:120]
        problem = segment_choice_problem(fields[key], text)
        if problem:
            problems[f"segments.{key}"] = [problem]
            continue
        cleaned[key] = text
    if problems:
        raise errors.ValidationFailed("Some segment values are not valid.", field_errors=problems)
    return cleaned
