"""The options of a view that every entry checks alike: the segment filters ("staff department = Sales"), how
they are spelled and the one check they pass, and the one rule for a comparison wave.

Light on purpose (no numpy or pandas): report requests and pages check filters here without loading
the gap engine (reports.services), which a freshly started worker would otherwise import on a
request that only queues a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from backend.ids import parse_id
from surveys import errors
from surveys import services as survey_services
from surveys.models import Side, Wave


def parse_filter_strings(values: list[str], name: str) -> dict[str, str]:
    """``["department:Sales", …]`` (the API's and the report request's spelling) as a filter; ValidationFailed
    naming ``name`` for a value without a colon or a field given twice."""
    out: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise errors.ValidationFailed(field_errors={name: [f"Use field:value, got '{raw[:60]}'."]})
        if key.strip() in out:
            raise errors.ValidationFailed(field_errors={name: [f"'{key.strip()}' is given twice."]})
        out[key.strip()] = value.strip()
    return out


def view_filters(*, wave: Wave, staff_filter: Mapping[str, str] | None,
                 customer_filter: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """The cleaned staff and customer filters of a view of ``wave``, or ValidationFailed naming ``staff`` or
    ``customer``: the one check for the API, the web mirror and report requests (the engine applies it too)."""
    return (validate_filter(wave, Side.STAFF, staff_filter, "staff"),
            validate_filter(wave, Side.CUSTOMER, customer_filter, "customer"))


class HasSegmentFields(Protocol):
    """What a filter is checked against: a wave, or another source of an analysis (reports.sources)."""

    def segment_fields(self, side: str) -> list[dict]: ...


def validate_filter(wave: HasSegmentFields, side: str, flt: Mapping[str, str] | None, name: str) -> dict[str, str]:
    fields = {f["key"]: f for f in wave.segment_fields(side)}
    cleaned: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for key, value in (flt or {}).items():
        if key not in fields:
            problems[name] = [f"'{key}' is not a {side} segment field of this wave (use one of: "
                              f"{', '.join(sorted(fields)) or 'none'})."]
        elif not isinstance(value, str) or not value:
            problems[name] = [f"'{key}' needs a value."]
        elif problem := survey_services.segment_choice_problem(fields[key], value):
            problems[name] = [f"{key}: {problem}"]
        else:
            cleaned[key] = value
    if problems:
        raise errors.ValidationFailed("Unknown segment filter.", field_errors=problems)
    return cleaned


COMPARE_PROBLEM = "Choose another wave of this organization."


def check_compare_wave(wave: Wave, compare: Wave | None) -> None:
    """The one rule for a comparison wave: another wave of the same organization (ValidationFailed otherwise)."""
    if compare is not None and (compare.organization_id != wave.organization_id or compare.pk == wave.pk):
        raise errors.ValidationFailed(field_errors={"compare_wave": [COMPARE_PROBLEM]})


def compare_wave_of(wave: Wave, compare_id: Any) -> Wave | None:
    """The comparison wave a request names by id (None for none), checked by :func:`check_compare_wave`.

    An id of a wave the organization does not have gets the same message as another organization's wave:
    whether a wave exists elsewhere is nobody's business.
    """
    if compare_id in (None, ""):
        return None
    pk = parse_id(compare_id.strip() if isinstance(compare_id, str) else compare_id)
    compare = Wave.objects.filter(pk=pk, organization_id=wave.organization_id).first() if pk is not None else None
    if compare is None:
        raise errors.ValidationFailed(field_errors={"compare_wave": [COMPARE_PROBLEM]})
    check_compare_wave(wave, compare)
    return compare


# The opt-in bootstrap intervals of the items (docs/methods.md §2.6): how they are asked for and the one check.
BOOTSTRAP_METHODS = ("percentile", "bca")
BOOTSTRAP_REPS_DEFAULT = 2000
BOOTSTRAP_REPS_MIN = 1000
BOOTSTRAP_REPS_MAX = 20_000
# One fixed seed: the same view of the same release gives the same intervals, cached or not.
BOOTSTRAP_SEED = 0


def bootstrap_options(method: Any, reps: Any = None) -> dict[str, Any] | None:
    """The bootstrap a view asks for, as ``{"method", "n_resamples", "seed"}``, or None when it asks for none.

    ValidationFailed naming ``bootstrap`` for an unknown method, ``bootstrap_reps`` for a number of resamples
    that is not a whole number within the bounds, or given without a method.
    """
    if method in (None, ""):
        if reps not in (None, ""):
            raise errors.ValidationFailed(field_errors={"bootstrap_reps": [
                "Only with bootstrap=percentile or bootstrap=bca."]})
        return None
    if method not in BOOTSTRAP_METHODS:
        raise errors.ValidationFailed(field_errors={"bootstrap": ["Use 'percentile' or 'bca'."]})
    if reps in (None, ""):
        reps = BOOTSTRAP_REPS_DEFAULT
    if isinstance(reps, str) and reps.strip().isdigit():
        reps = int(reps.strip())
    if isinstance(reps, bool) or not isinstance(reps, int) or not BOOTSTRAP_REPS_MIN <= reps <= BOOTSTRAP_REPS_MAX:
        raise errors.ValidationFailed(field_errors={"bootstrap_reps": [
            f"A whole number from {BOOTSTRAP_REPS_MIN} to {BOOTSTRAP_REPS_MAX}."]})
    return {"method": method, "n_resamples": reps, "seed": BOOTSTRAP_SEED}
