"""Writes of waves: create, change settings (the staff-threshold override rule and its audit), draft → open → closed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from surveys import errors, internal, wave_locks
from surveys.instruments.modules import MODULES, module_rows
from surveys.models import (
    AnonymousLink,
    AuditEvent,
    Instrument,
    Organization,
    Side,
    SurveyResponse,
    Wave,
    WaveKind,
    WaveStatus,
)
from surveys.services.audit import audit_record
from surveys.services.instruments import (
    instrument_add_module,
    instrument_adopt_builtin,
    instrument_freeze,
    instrument_modules,
    instrument_new_version,
)

# A staff threshold below this is an override: set only with a written reason, and audited.
ANONYMITY_OVERRIDE_BELOW = 5
ANONYMITY_OVERRIDE_REASON_MAX = 1000


def wave_threshold_reason(*, threshold: int, reason: str | None, previous_threshold: int | None = None,
                          previous_reason: str = "") -> str:
    """The one rule for a staff threshold below 5 (services, API and admin all ask here).

    Returns the reason to store: "" at 5 or more (no override, so no reason), else the reason given,
    stripped. ``reason=None`` means "not given in this call": it keeps the stored reason only while the
    threshold stays what it was; a new value below 5 needs its reason in the same call. Raises
    ValidationFailed naming ``anonymity_override_reason`` otherwise.
    """
    if threshold >= ANONYMITY_OVERRIDE_BELOW:
        return ""
    given = reason.strip() if reason is not None else None
    if given is None and threshold == previous_threshold and previous_reason.strip():
        return previous_reason
    if not given:
        raise errors.ValidationFailed(
            f"A staff threshold below {ANONYMITY_OVERRIDE_BELOW} needs a reason.",
            field_errors={"anonymity_override_reason": [
                f"A staff anonymity threshold below {ANONYMITY_OVERRIDE_BELOW} ({threshold}) is an audited "
                "override: give the reason in this same change."
            ]},
        )
    if len(given) > ANONYMITY_OVERRIDE_REASON_MAX:
        raise errors.ValidationFailed(field_errors={"anonymity_override_reason": [
            f"At most {ANONYMITY_OVERRIDE_REASON_MAX} characters."
        ]})
    return given


def _audit_threshold_change(*, wave: Wave, user: Any, old_threshold: int | None, old_reason: str) -> None:
    """Audit setting, changing or lifting an override: who, the wave, old and new threshold, the reason,
    and how many staff responses the wave already has (never which)."""
    new_threshold, new_reason = wave.anonymity_threshold, wave.anonymity_override_reason
    if (old_threshold, old_reason) == (new_threshold, new_reason):
        return
    below = [t for t in (old_threshold, new_threshold) if t is not None and t < ANONYMITY_OVERRIDE_BELOW]
    if not below:
        return
    audit_record(
        organization_id=wave.organization_id, user=user, action=AuditEvent.Action.THRESHOLD_OVERRIDE, wave=wave,
        details={
            "old_threshold": old_threshold, "new_threshold": new_threshold, "reason": new_reason,
            "previous_reason": old_reason,
            "staff_responses": SurveyResponse.objects.filter(wave=wave, side=Side.STAFF,
                                                             release__isnull=False).count(),  # published ones
        },
    )


def _version_with_modules(*, base: Instrument, modules: list[str]) -> Instrument:
    """The organisation version a wave asking ``modules`` runs on, given the version chosen (``base``).

    The one rule of "modules per wave": a wave asks its version's items, and a version a wave uses never
    changes, so a module the chosen version lacks is never added to it. Instead the wave runs on a
    version derived from it (``instrument_new_version``, next version number of the same key) with the
    modules added; an earlier such derivation of ``base`` with exactly these modules and no other change
    is reused, so repeated waves do not pile up versions. ``base`` itself stays as it was.
    """
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        raise errors.ValidationFailed(field_errors={"modules": [
            f"Unknown module {unknown[0]!r}; choose from: {', '.join(sorted(MODULES))}."]})
    present = instrument_modules(instrument=base)
    missing = [m for m in dict.fromkeys(modules) if m not in present]
    if not missing:
        return base
    wanted = present | set(missing)
    n_items = base.items.count() + sum(len(module_rows(m)[1]) for m in missing)
    derived = Instrument.objects.filter(organization_id=base.organization_id, key=base.key, based_on=base)
    for candidate in derived.order_by("-version"):
        if instrument_modules(instrument=candidate) == wanted and candidate.items.count() == n_items:
            return candidate
    version = instrument_new_version(instrument=base)
    for module in missing:
        instrument_add_module(instrument=version, module=module)
    return version


def _check_kind(fields: dict[str, Any]) -> None:
    """An internal wave needs its serving departments and a customer (employee) threshold of at least 3,
    as staff; an external wave has no departments."""
    kind = fields.get("kind") or WaveKind.EXTERNAL
    if kind not in WaveKind.values:
        raise errors.ValidationFailed(field_errors={"kind": ["Must be external or internal."]})
    fields["kind"] = kind
    if kind == WaveKind.INTERNAL:
        fields["served_departments"] = internal.clean_departments(fields.get("served_departments"))
        if int(fields.get("customer_threshold", 5)) < internal.MIN_EMPLOYEE_THRESHOLD:
            raise errors.ValidationFailed(field_errors={"customer_threshold": [
                f"An internal wave's customers are employees: at least {internal.MIN_EMPLOYEE_THRESHOLD}."]})
    elif fields.get("served_departments"):
        raise errors.ValidationFailed(field_errors={"served_departments": ["Only internal waves have them."]})
    else:
        fields["served_departments"] = []


@transaction.atomic
def wave_create(*, organization: Organization, instrument: Instrument, name: str, slug: str,
                user: Any = None, modules: list[str] | None = None, **fields: Any) -> Wave:
    """Create a draft wave and freeze the instrument version it uses.

    ``modules`` (e.g. ``["experience_modules"]``): optional module sets the wave asks besides the
    version's own items; when the version lacks one, the wave runs on a version derived with it
    (``_version_with_modules``). A staff threshold below 5 needs ``anonymity_override_reason``
    (wave_threshold_reason) and is audited as ``user``. Raises ValidationFailed when the instrument
    belongs to another organization or a module is unknown.
    """
    if instrument.organization_id not in (None, organization.pk):
        raise errors.ValidationFailed(field_errors={"instrument": ["Unknown instrument."]})
    fields.setdefault("anonymity_threshold", settings.KAGAMI_DEFAULT_ANONYMITY_THRESHOLD)
    _check_kind(fields)
    threshold = fields["anonymity_threshold"]
    fields["anonymity_override_reason"] = wave_threshold_reason(
        threshold=threshold, reason=fields.get("anonymity_override_reason"))
    if instrument.organization_id is None:
        # A wave always runs on the organization's own copy, so later edits cannot touch other tenants.
        instrument = instrument_adopt_builtin(source=instrument, organization=organization)
    if modules:
        instrument = _version_with_modules(base=instrument, modules=list(modules))
    wave = Wave.objects.create(organization=organization, instrument=instrument, name=name, slug=slug, **fields)
    instrument_freeze(instrument=instrument)
    for side in (Side.STAFF, Side.CUSTOMER):
        AnonymousLink.objects.create(wave=wave, side=side)
    _audit_threshold_change(wave=wave, user=user, old_threshold=None, old_reason="")
    return wave


WAVE_EDITABLE_FIELDS = (
    "name", "slug", "opens_on", "closes_on", "languages", "default_language", "anonymity_threshold",
    "anonymity_override_reason", "customer_threshold", "staff_segment_fields", "customer_segment_fields",
    "previous_wave",
    # What respondents read (surveys/respondents.py).
    "staff_title_ja", "staff_title_en", "staff_intro_ja", "staff_intro_en",
    "customer_title_ja", "customer_title_en", "customer_intro_ja", "customer_intro_en",
)


# How long an edit of a wave waits for its row: publishers hold it for milliseconds, a bulk load until it commits.
WAVE_EDIT_WAIT_MS = 5000


def wave_lock_for_edit(wave_id: int, *, no_key: bool = True) -> None:
    """Lock the wave's row for an edit in the caller's transaction, or say why not (Conflict, 409 ``wave_busy``)
    rather than wait out a running import. The admin's form asks it first, to show the refusal on the form."""
    if not wave_locks.lock_wave(wave_id, wait_ms=WAVE_EDIT_WAIT_MS, no_key=no_key):
        raise errors.Conflict("This wave is busy: responses are being imported into it. Try again when the import "
                              "has finished.", code="wave_busy")


@transaction.atomic
def wave_update(*, wave: Wave, user: Any = None, **fields: Any) -> Wave:
    """Change a wave's settings (never its status: see wave_set_status).

    Changing the staff threshold or its override reason goes through wave_threshold_reason (below 5
    only with a reason given in this call) and is audited as ``user``, even on a wave with staff
    responses.
    """
    unknown = set(fields) - set(WAVE_EDITABLE_FIELDS)
    if unknown:
        raise errors.ValidationFailed(field_errors={name: ["This field cannot be changed."] for name in unknown})
    fields = dict(fields)
    wave_lock_for_edit(wave.pk)
    if (internal.is_internal(wave) and "customer_threshold" in fields
            and int(fields["customer_threshold"]) < internal.MIN_EMPLOYEE_THRESHOLD):
        raise errors.ValidationFailed(field_errors={"customer_threshold": [
            f"An internal wave's customers are employees: at least {internal.MIN_EMPLOYEE_THRESHOLD}."]})
    previous: tuple[int, str] | None = None
    if {"anonymity_threshold", "anonymity_override_reason"} & set(fields):
        # The stored values, locked: the caller's instance may be stale (or, in the admin, already edited).
        previous = old_threshold, old_reason = (
            Wave.objects.select_for_update().values_list("anonymity_threshold", "anonymity_override_reason")
            .get(pk=wave.pk)
        )
        threshold = fields.get("anonymity_threshold", old_threshold)
        fields["anonymity_threshold"] = threshold
        fields["anonymity_override_reason"] = wave_threshold_reason(
            threshold=threshold, reason=fields.get("anonymity_override_reason"),
            previous_threshold=old_threshold, previous_reason=old_reason)
    for name, value in fields.items():
        setattr(wave, name, value)
    if fields:
        wave.save(update_fields=list(fields))
    if previous is not None:
        _audit_threshold_change(wave=wave, user=user, old_threshold=previous[0], old_reason=previous[1])
    return wave


_TRANSITIONS = {
    (WaveStatus.DRAFT, WaveStatus.OPEN),
    (WaveStatus.OPEN, WaveStatus.CLOSED),
}


@transaction.atomic
def wave_set_status(*, wave: Wave, status: str, reopen: bool = False) -> Wave:
    """Move a wave through draft → open → closed.

    A closed wave reopens only with ``reopen=True`` (an explicit, audited act);
    nothing goes back to draft. Raises InvalidTransition otherwise.
    """
    wave_lock_for_edit(wave.pk, no_key=False)
    locked = Wave.objects.get(pk=wave.pk)
    current = WaveStatus(locked.status)
    target = WaveStatus(status)
    if reopen and current != WaveStatus.CLOSED:
        raise errors.InvalidTransition(f"Only a closed wave can be reopened; this one is {current.value}.")
    if current == target:
        wave.status = locked.status
        return wave
    allowed = (current, target) in _TRANSITIONS or (
        reopen and current == WaveStatus.CLOSED and target == WaveStatus.OPEN
    )
    if not allowed:
        hint = " Pass reopen=true to reopen a closed wave explicitly." if current == WaveStatus.CLOSED else ""
        raise errors.InvalidTransition(f"A {current.value} wave cannot become {target.value}.{hint}")
    now = timezone.now()
    locked.status = target
    if target == WaveStatus.OPEN:
        locked.opened_at = locked.opened_at or now
        locked.closed_at = None
    else:
        locked.closed_at = now
    locked.save(update_fields=["status", "opened_at", "closed_at"])
    # The caller's instance reflects the change too.
    wave.status, wave.opened_at, wave.closed_at = locked.status, locked.opened_at, locked.closed_at
    return wave


def wave_open(*, wave: Wave) -> Wave:
    return wave_set_status(wave=wave, status=WaveStatus.OPEN)


def wave_close(*, wave: Wave) -> Wave:
    return wave_set_status(wave=wave, status=WaveStatus.CLOSED)
