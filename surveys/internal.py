"""Internal-customer waves: which side is protected like staff, and the serving departments of a wave.

An internal wave (``Wave.kind == "internal"``) mirrors a serving department (HR, IT, finance …): the self side
is the department's staff, the customer side the employees who use it. Both sides are employees, so both are
protected as staff are (docs/anonymity.md, "Internal services"). :func:`protected_side` is the one decision
point every output asks instead of testing ``side == "staff"``.

Storage: one response per (respondent, department): a staff member's row carries their own department; an
employee who used three departments leaves three rows, one per department, stored in one submission under
one invitation (used once). So inside one department's rows every person appears at most once, and every
per-department number over k rows is over k people. Results are only ever computed per department (the
gap engine refuses an internal wave without one): pooling the departments would count people several times.
Internal waves accept answers through invitations only (the roster, P5): a self-declared department on an
anonymous link could pad a department's group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q

from surveys import errors
from surveys.models import Side, Wave, WaveKind

MAX_DEPARTMENTS = 30
MIN_EMPLOYEE_THRESHOLD = 3  # the smallest k of an internal wave's customer side, as for staff
DEPARTMENT_FIELD = "served_department"


def is_internal(wave: Wave) -> bool:
    return wave.kind == WaveKind.INTERNAL


def protected_side(wave: Wave, side: str) -> bool:
    """Whether a side's respondents get every protection staff get: no invitation, account or time on their
    rows, no per-person status, no identifying row-level output, their own k, releases of at least k."""
    return side == Side.STAFF or is_internal(wave)


def protected_q(prefix: str = "") -> Q:
    """:func:`protected_side` as a query condition on rows with a ``side`` and a ``wave`` (invitations, responses)."""
    return Q(**{f"{prefix}side": Side.STAFF}) | Q(**{f"{prefix}wave__kind": WaveKind.INTERNAL})


def departments(wave: Wave) -> list[dict[str, str]]:
    """The wave's serving departments, in the admin's order (empty for an external wave)."""
    if not is_internal(wave):
        return []
    return [dict(d) for d in wave.served_departments or []]


def department_keys(wave: Wave) -> list[str]:
    return [d["key"] for d in departments(wave)]


def department_label(wave: Wave, key: str, language: str) -> str:
    for d in departments(wave):
        if d["key"] == key:
            return (d.get("label_ja") if language == "ja" else d.get("label_en")) or d.get("label_en") or key
    return key


def clean_departments(raw: Any) -> list[dict[str, str]]:
    """Check a list of serving departments ``[{"key", "label_en", "label_ja"}]``; ValidationFailed names the field."""
    problems: list[str] = []
    if not isinstance(raw, list) or not raw:
        raise errors.ValidationFailed(field_errors={DEPARTMENT_FIELD + "s": [
            "An internal wave needs a non-empty list of serving departments."]})
    if len(raw) > MAX_DEPARTMENTS:
        problems.append(f"At most {MAX_DEPARTMENTS} departments.")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            problems.append(f"Entry {index}: must be an object with key, label_en and label_ja.")
            continue
        key = str(entry.get("key", "")).strip()
        if not key or len(key) > 40 or not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
            problems.append(f"Entry {index}: key must be 1-40 letters, digits, '-' or '_'.")
            continue
        if key in seen:
            problems.append(f"Entry {index}: duplicate key {key!r}.")
            continue
        seen.add(key)
        label_en = str(entry.get("label_en", "")).strip()[:120] or key
        label_ja = str(entry.get("label_ja", "")).strip()[:120] or label_en
        out.append({"key": key, "label_en": label_en, "label_ja": label_ja})
    if problems:
        raise errors.ValidationFailed(field_errors={DEPARTMENT_FIELD + "s": problems})
    return out


def check_department(wave: Wave, department: str | None, *, field: str = "department") -> str | None:
    """The department a per-department read asks for: required for an internal wave, refused for an external one."""
    if not is_internal(wave):
        if department:
            raise errors.ValidationFailed(field_errors={field: ["Only internal waves have serving departments."]})
        return None
    keys = department_keys(wave)
    if not department:
        raise errors.ValidationFailed(field_errors={field: [
            "Required for an internal wave: results are shown per serving department (one of: "
            + ", ".join(keys) + ")."]})
    if department not in keys:
        raise errors.ValidationFailed(field_errors={field: ["Unknown department; one of: " + ", ".join(keys) + "."]})
    return department


def check_rated(wave: Wave, side: str, rated: Iterable[str]) -> list[str]:
    """The departments one submission rates: the staff side names exactly one (their own), the customer side
    at least one, each once, all of the wave."""
    rated = list(rated)
    keys = department_keys(wave)
    problems = []
    if not rated:
        problems.append("Choose the department you work in." if side == Side.STAFF
                        else "Choose at least one department you used.")
    if side == Side.STAFF and len(rated) > 1:
        problems.append("Staff answer for their own department only.")
    if len(set(rated)) != len(rated):
        problems.append("Each department once.")
    unknown = [d for d in rated if d not in keys]
    if unknown:
        problems.append("Unknown department: " + ", ".join(unknown) + ".")
    if problems:
        raise errors.ValidationFailed(field_errors={"departments": problems})
    return rated
