"""Writes of the surveys domain. Views, serializers, admin and commands call these.

Each service is keyword-only, typed, and raises ``surveys.errors`` exceptions,
which one handler maps to HTTP (backend/api_errors.py) and the HTML views to pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from surveys import errors, selectors
from surveys.models import (
    AnonymousLink,
    AuditEvent,
    Channel,
    CustomerAccount,
    Dimension,
    Instrument,
    Invitation,
    InvitationUse,
    ItemPair,
    Membership,
    Organization,
    Role,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
    hash_token,
    new_token,
)

MAX_COMMENT_LENGTH = 5000


# --------------------------------------------------------------------------- instruments


def _copy_instrument(*, source: Instrument, organization: Organization | None, key: str, version: int,
                     based_on: Instrument | None) -> Instrument:
    copy = Instrument.objects.create(
        organization=organization,
        key=key,
        version=version,
        name_ja=source.name_ja,
        name_en=source.name_en,
        description_ja=source.description_ja,
        description_en=source.description_en,
        is_builtin=False,
        based_on=based_on,
    )
    dims: dict[int, Dimension] = {}
    for dim in source.dimensions.all():
        old_id = dim.pk
        dim.pk = None
        dim.instrument = copy
        dim.save()
        dims[old_id] = dim
    for item in source.items.all():
        item.pk = None
        item.instrument = copy
        item.dimension = dims.get(item.dimension_id) if item.dimension_id else None
        item.save()
    return copy


@transaction.atomic
def instrument_clone(*, source: Instrument, organization: Organization, key: str | None = None) -> Instrument:
    """Copy an instrument (typically the built-in one) into an organization as version 1 of a new key.

    Raises ValidationFailed if the organization already has that key.
    """
    key = key or source.key
    if Instrument.objects.filter(organization=organization, key=key).exists():
        raise errors.ValidationFailed(
            f"This organization already has an instrument '{key}'.", field_errors={"key": ["Already in use."]}
        )
    return _copy_instrument(source=source, organization=organization, key=key, version=1, based_on=source)


@transaction.atomic
def instrument_new_version(*, instrument: Instrument) -> Instrument:
    """Create the next version of an organization's instrument, as an editable copy of ``instrument``."""
    if instrument.organization_id is None:
        raise errors.ValidationFailed("Built-in instruments are versioned by Kagami; clone it first.")
    latest = (
        Instrument.objects.select_for_update()
        .filter(organization_id=instrument.organization_id, key=instrument.key)
        .order_by("-version")
        .first()
    )
    return _copy_instrument(
        source=instrument,
        organization=instrument.organization,
        key=instrument.key,
        version=(latest.version if latest else instrument.version) + 1,
        based_on=instrument,
    )


def instrument_ensure_editable(*, instrument: Instrument) -> None:
    """Raise InstrumentFrozen if a wave uses this version (or it is built in)."""
    if instrument.is_builtin or instrument.organization_id is None:
        raise errors.InstrumentFrozen("The built-in instrument cannot be edited; clone it first.")
    if instrument.is_frozen or instrument.waves.exists():
        raise errors.InstrumentFrozen()


def instrument_freeze(*, instrument: Instrument) -> None:
    if instrument.frozen_at is None:
        Instrument.objects.filter(pk=instrument.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
        instrument.refresh_from_db(fields=["frozen_at"])


# --------------------------------------------------------------------------- waves


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


@transaction.atomic
def wave_create(*, organization: Organization, instrument: Instrument, name: str, slug: str,
                user: Any = None, **fields: Any) -> Wave:
    """Create a draft wave and freeze the instrument version it uses.

    A staff threshold below 5 needs ``anonymity_override_reason`` (wave_threshold_reason) and is
    audited as ``user``. Raises ValidationFailed when the instrument belongs to another organization.
    """
    if instrument.organization_id not in (None, organization.pk):
        raise errors.ValidationFailed(field_errors={"instrument": ["Unknown instrument."]})
    fields.setdefault("anonymity_threshold", settings.KAGAMI_DEFAULT_ANONYMITY_THRESHOLD)
    threshold = fields["anonymity_threshold"]
    fields["anonymity_override_reason"] = wave_threshold_reason(
        threshold=threshold, reason=fields.get("anonymity_override_reason"))
    if instrument.organization_id is None:
        # A wave always runs on the organization's own copy, so later edits cannot touch other tenants.
        existing = Instrument.objects.filter(organization=organization, based_on=instrument, version=1).first()
        instrument = existing or instrument_clone(source=instrument, organization=organization)
    wave = Wave.objects.create(organization=organization, instrument=instrument, name=name, slug=slug, **fields)
    instrument_freeze(instrument=instrument)
    for side in (Side.STAFF, Side.CUSTOMER):
        AnonymousLink.objects.create(wave=wave, side=side)
    _audit_threshold_change(wave=wave, user=user, old_threshold=None, old_reason="")
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
    locked = Wave.objects.select_for_update().get(pk=wave.pk)
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


# --------------------------------------------------------------------------- invitations


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its token. The token is never stored; hand it out now or never."""

    invitation: Invitation
    token: str


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


# A staff invitation's link goes to its invitee only, by email: whoever else kept it could open it later and see
# whether that colleague answered (disclosure promise P1, no linkage). So the API, the Django admin and the
# imports never show one, and refuse staff invitations that no email could deliver.
STAFF_EMAIL_REQUIRED = ("Staff invitations are only delivered by email; use the anonymous staff link for people "
                        "without an address.")

_staff_by_email_only: ContextVar[bool] = ContextVar("staff_invitations_by_email_only", default=False)


@contextmanager
def staff_invitations_by_email_only() -> Iterator[None]:
    """Within this block, ``invitation_create`` refuses a staff invitation without an email address.

    For the callers that create invitations for people (the API, the Django admin, the contact imports),
    which never show a staff link: the invitation's email is its only way to its invitee. Outside it a
    staff invitation without an address stays possible (the demo and tests hand its token over directly).
    """
    reset = _staff_by_email_only.set(True)
    try:
        yield
    finally:
        _staff_by_email_only.reset(reset)


def invitation_create(*, wave: Wave, side: str, email: str = "", name: str = "", language: str | None = None,
                      segments: Mapping[str, Any] | None = None,
                      customer_account: CustomerAccount | None = None) -> IssuedInvitation:
    """Create one single-use invitation and return it with its token.

    Within ``staff_invitations_by_email_only``, a staff invitation without an email address is a
    ValidationFailed naming ``email``.
    """
    if side == Side.STAFF and customer_account is not None:
        raise errors.ValidationFailed(field_errors={"customer_account": ["Staff invitations have no account."]})
    if side == Side.STAFF and not email.strip() and _staff_by_email_only.get():
        raise errors.ValidationFailed(field_errors={"email": [STAFF_EMAIL_REQUIRED]})
    if customer_account is not None and customer_account.organization_id != wave.organization_id:
        raise errors.ValidationFailed(field_errors={"customer_account": ["Unknown account."]})
    token = new_token()
    invitation = Invitation.objects.create(
        wave=wave,
        side=side,
        token_hash=hash_token(token),
        email=email,
        name=name,
        language=language or wave.default_language,
        segments=clean_segments(wave=wave, side=side, segments=segments),
        customer_account=customer_account,
    )
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_by_token(*, token: str) -> Invitation:
    """The invitation of a token, or NotFound (which reveals nothing)."""
    if not token or len(token) > 200:
        raise errors.NotFound()
    try:
        # With its use and account: a form post reads both, so they come in the same query.
        return Invitation.objects.select_related(
            "wave", "wave__organization", "wave__instrument", "use", "customer_account"
        ).get(token_hash=hash_token(token))
    except Invitation.DoesNotExist:
        pass
    from surveys import invitation_links  # an earlier link: still working, or revoked (LinkReplaced)

    return invitation_links.invitation_by_earlier_link(token_hash=hash_token(token))


# --------------------------------------------------------------------------- responses


def survey_items(*, wave: Wave, side: str) -> list[ItemPair]:
    """The items a respondent on ``side`` is asked, in questionnaire order (outcome items last).

    The items of a frozen instrument are read once per process (``selectors.instrument_items``);
    they are shared, so callers read them and never change them.
    """
    asked = selectors.frozen_instrument_memo(
        instrument=wave.instrument, name=("asked", side),
        build=lambda: tuple(item for item in selectors.instrument_items(instrument=wave.instrument)
                            if item.asked_of(side)))
    return list(asked)


def validate_answers(*, items: Iterable[ItemPair], answers: Mapping[str, Any],
                     required: bool = True) -> dict[int, int | None]:
    """Check raw answers (item key → value, "na" or None) against the items.

    Returns item id → value (None for N/A). Raises ValidationFailed with one
    message per bad field, named ``answers.<item key>``.
    """
    by_key = {item.key: item for item in items}
    problems: dict[str, list[str]] = {}
    cleaned: dict[int, int | None] = {}
    for key in answers:
        if key not in by_key:
            problems[f"answers.{key}"] = ["Unknown item."]
    for key, item in by_key.items():
        raw = answers.get(key)
        if raw is None or raw == "":
            if required and not item.allow_na:
                problems[f"answers.{key}"] = ["An answer is required."]
            elif required and item.allow_na:
                problems[f"answers.{key}"] = ["Choose an answer, or “don't know / not applicable”."]
            continue
        if isinstance(raw, str) and raw.strip().lower() in {"na", "n/a", "dk"}:
            if not item.allow_na:
                problems[f"answers.{key}"] = ["This question has no “not applicable” option."]
                continue
            cleaned[item.pk] = None
            continue
        if isinstance(raw, bool):
            problems[f"answers.{key}"] = ["Must be a whole number."]
            continue
        try:
            value = int(raw)
            if isinstance(raw, float) and raw != value:
                raise ValueError
        except (TypeError, ValueError):
            problems[f"answers.{key}"] = ["Must be a whole number."]
            continue
        if not item.scale_min <= value <= item.scale_max:
            problems[f"answers.{key}"] = [f"Must be between {item.scale_min} and {item.scale_max}."]
            continue
        cleaned[item.pk] = value
    if problems:
        raise errors.ValidationFailed("Some answers are not valid.", field_errors=problems)
    return cleaned


def response_submit(*, wave: Wave, side: str, answers: Mapping[str, Any], language: str,
                    channel: str = Channel.ANONYMOUS, comment: str = "", segments: Mapping[str, Any] | None = None,
                    invitation: Invitation | None = None, weight: float | None = None,
                    required: bool = True, customer_account: CustomerAccount | None = None,
                    submitted_on: dt.date | None = None, anonymous_link_id: int | None = None) -> SurveyResponse:
    """Validate and store one response. The one rule used by the HTML form, the JSON API and imports.

    Raises WaveNotCollecting (410) unless the wave is open — checked again by
    the INSERT itself, so a ``wave`` read moments ago (or the link
    ``anonymous_link_id``, when given) closed since is refused —, ValidationFailed
    (400, per field) for bad answers, and AlreadyAnswered (409) for a used
    invitation — also when two submissions race (the database decides).
    """
    if not wave.is_collecting and channel != Channel.IMPORT:
        raise errors.WaveNotCollecting()
    if language not in wave.languages:
        language = wave.default_language
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise errors.ValidationFailed(field_errors={"comment": [f"At most {MAX_COMMENT_LENGTH} characters."]})
    if weight is not None and not weight > 0:
        raise errors.ValidationFailed(field_errors={"weight": ["Must be a positive number."]})
    items = survey_items(wave=wave, side=side)
    cleaned = validate_answers(items=items, answers=answers, required=required)

    if customer_account is not None and (side != Side.CUSTOMER
                                         or customer_account.organization_id != wave.organization_id):
        raise errors.ValidationFailed(field_errors={"account": ["Unknown customer account."]})
    if submitted_on is not None and channel != Channel.IMPORT:
        raise errors.ValidationFailed(field_errors={"submitted_on": ["Only imports carry their own date."]})
    account = customer_account
    if invitation is not None:
        if invitation.wave_id != wave.pk or invitation.side != side:
            raise errors.NotFound()
        merged = dict(invitation.segments)
        account = invitation.customer_account or customer_account
    else:
        merged = clean_segments(wave=wave, side=side, segments=segments)
    if account is not None:
        for key in ("tier", "touch_model", "plan", "region"):
            value = getattr(account, key, "")
            if value and key in {f["key"] for f in wave.segment_fields(side)}:
                merged.setdefault(key, value)

    is_staff = side == Side.STAFF
    response = SurveyResponse(
        wave=wave,
        side=side,
        language=language,
        channel=channel,
        segments=merged,
        weight=None if is_staff else weight,
        comment=comment,
        submitted_on=submitted_on or timezone.localdate(),
        submitted_at=None if is_staff else timezone.now(),
        invitation=None if is_staff else invitation,
        customer_account=None if is_staff else account,
    )
    if invitation is None and connection.vendor == "postgresql":
        # One statement, outside any transaction of ours: the version triggers' row lock
        # (reports_wavedataversion, one row per wave) is held for that statement only.
        stored = _response_insert(response, cleaned, require_open=channel != Channel.IMPORT,
                                  anonymous_link_id=anonymous_link_id)
    else:
        with transaction.atomic():
            if invitation is not None:
                try:
                    with transaction.atomic():
                        InvitationUse.objects.create(invitation=invitation)
                except IntegrityError:
                    raise errors.AlreadyAnswered() from None
            stored = _response_insert(response, cleaned, require_open=channel != Channel.IMPORT,
                                      anonymous_link_id=anonymous_link_id)
            if not stored:
                raise errors.WaveNotCollecting()  # rolls back: the invitation stays unused
    if not stored:
        raise errors.WaveNotCollecting()
    response._state.adding = False
    response._state.db = connection.alias
    return response


_RESPONSE_FIELDS = ("id", "wave", "side", "language", "channel", "segments", "weight", "comment", "submitted_on",
                    "submitted_at", "invitation", "customer_account")


def _guard_sql(*, require_open: bool, with_link: bool) -> str:
    """The wave's row when it still takes this response (the INSERT's source: no row, nothing stored)."""
    sql = "SELECT w.id FROM surveys_wave w WHERE w.id = %s"
    if require_open:
        sql += f" AND w.status = '{WaveStatus.OPEN.value}'"
    if with_link:
        sql += (" AND EXISTS (SELECT 1 FROM surveys_anonymouslink l"
                " WHERE l.id = %s AND l.wave_id = w.id AND l.is_active)")
    return sql


def _int_array(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of whole numbers and NULLs (int() makes it safe to format)."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _response_insert(response: SurveyResponse, cleaned: Mapping[int, int | None], *, require_open: bool,
                     anonymous_link_id: int | None) -> bool:
    """Store ``response`` and its answers unless the wave closed (or the link was switched off); True if stored.

    Hand-written SQL: the ORM's create() and bulk_create() cost more CPU than the database
    does. PostgreSQL gets one statement (the guard, the response, its answers via unnest);
    other databases an INSERT … SELECT and an executemany, in the caller's transaction.
    """
    fields = [SurveyResponse._meta.get_field(name) for name in _RESPONSE_FIELDS]
    values = [f.get_db_prep_save(getattr(response, f.attname), connection) for f in fields]
    columns = ", ".join(f.column for f in fields)
    guard = _guard_sql(require_open=require_open, with_link=anonymous_link_id is not None)
    guard_params = [response.wave_id] + ([anonymous_link_id] if anonymous_link_id is not None else [])
    # The wave's id comes from the guard's row: no row, nothing inserted.
    row = ", ".join("g.id" if name == "wave" else "%s" for name in _RESPONSE_FIELDS)
    params = [v for name, v in zip(_RESPONSE_FIELDS, values, strict=True) if name != "wave"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH guard AS ({guard}), "
                f"r AS (INSERT INTO surveys_surveyresponse ({columns}) SELECT {row} FROM guard g RETURNING id), "
                "a AS (INSERT INTO surveys_answer (response_id, item_id, value) "
                "SELECT r.id, v.item_id, v.value FROM r CROSS JOIN unnest(%s::integer[], %s::smallint[]) "
                "AS v(item_id, value) RETURNING 1) "
                "SELECT count(*) FROM r",
                # The arrays as literals: psycopg's list adaptation cost more than the rest of the statement.
                [*guard_params, *params, _int_array(cleaned.keys()), _int_array(cleaned.values())],
            )
            return cursor.fetchone()[0] == 1
        cursor.execute(f"INSERT INTO surveys_surveyresponse ({columns}) SELECT {row} FROM ({guard}) g",
                       [*params, *guard_params])
        if cursor.rowcount != 1:
            return False
        cursor.executemany("INSERT INTO surveys_answer (response_id, item_id, value) VALUES (%s, %s, %s)",
                           [(values[0], item_id, value) for item_id, value in cleaned.items()])
    return True


# --------------------------------------------------------------------------- staff API writes

INSTRUMENT_TEXT_FIELDS = ("name_ja", "name_en", "description_ja", "description_en")


def _create_contents(*, instrument: Instrument, dimensions: list[Mapping[str, Any]],
                     items: list[Mapping[str, Any]]) -> None:
    dims: dict[str, Dimension] = {}
    for index, spec in enumerate(dimensions):
        dim = Dimension.objects.create(
            instrument=instrument,
            key=spec["key"],
            order=spec.get("order", index),
            name_ja=spec["name_ja"],
            name_en=spec["name_en"],
            description_ja=spec.get("description_ja", ""),
            description_en=spec.get("description_en", ""),
        )
        dims[dim.key] = dim
    for index, spec in enumerate(items):
        values = dict(spec)
        dimension_key = values.pop("dimension", None)
        values.setdefault("order", index)
        ItemPair.objects.create(instrument=instrument, dimension=dims.get(dimension_key) if dimension_key else None,
                                **values)


@transaction.atomic
def instrument_create(*, organization: Organization, key: str, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]], items: list[Mapping[str, Any]]) -> Instrument:
    """Create version 1 of a custom instrument with its dimensions and items (already validated).

    Raises ValidationFailed when the organization already has that key.
    """
    if Instrument.objects.filter(organization=organization, key=key).exists():
        raise errors.ValidationFailed(
            field_errors={"key": ["This organization already has an instrument with this key."]}
        )
    instrument = Instrument.objects.create(organization=organization, key=key, version=1,
                                           **{k: texts.get(k, "") for k in INSTRUMENT_TEXT_FIELDS})
    _create_contents(instrument=instrument, dimensions=dimensions, items=items)
    return instrument


@transaction.atomic
def instrument_update(*, instrument: Instrument, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]] | None = None,
                      items: list[Mapping[str, Any]] | None = None) -> Instrument:
    """Change an editable instrument's texts and, when given, replace its dimensions and items.

    Raises InstrumentFrozen (409) when a wave uses this version or it is built in.
    """
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    instrument_ensure_editable(instrument=locked)
    for name in INSTRUMENT_TEXT_FIELDS:
        if name in texts:
            setattr(locked, name, texts[name])
    locked.save(update_fields=list(INSTRUMENT_TEXT_FIELDS))
    if dimensions is not None and items is not None:
        # Nothing answers an unfrozen version, so its items can be replaced wholesale.
        locked.items.all().delete()
        locked.dimensions.all().delete()
        _create_contents(instrument=locked, dimensions=dimensions, items=items)
    return locked


WAVE_EDITABLE_FIELDS = (
    "name", "slug", "opens_on", "closes_on", "languages", "default_language", "anonymity_threshold",
    "anonymity_override_reason", "customer_threshold", "staff_segment_fields", "customer_segment_fields",
    "previous_wave",
    # What respondents read (surveys/respondents.py).
    "staff_title_ja", "staff_title_en", "staff_intro_ja", "staff_intro_en",
    "customer_title_ja", "customer_title_en", "customer_intro_ja", "customer_intro_en",
)


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


def _admins_left(*, organization_id: int, excluding: Membership) -> bool:
    return (
        Membership.objects.filter(organization_id=organization_id, role=Role.ADMIN).exclude(pk=excluding.pk).exists()
    )


# Members join only by accepting an invitation: surveys.member_invitations.


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role. Raises Conflict ``last_admin`` when that would leave no admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and role != Role.ADMIN and not _admins_left(
        organization_id=locked.organization_id, excluding=locked
    ):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member. Raises Conflict ``last_admin`` for the last admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and not _admins_left(organization_id=locked.organization_id, excluding=locked):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.delete()


ACCOUNT_FIELDS = ("external_id", "name", "tier", "touch_model", "plan", "region", "arr", "status",
                  "customer_since", "churned_on", "renewed_on")


@transaction.atomic
def account_delete(*, account: CustomerAccount) -> None:
    """Delete a customer account. Its invitations and responses stay, no longer linked to it (SET_NULL):
    the answers count as before, only perception vs churn loses them."""
    account.delete()


@transaction.atomic
def account_save(*, organization: Organization, account: CustomerAccount | None = None,
                 **fields: Any) -> CustomerAccount:
    """Create or change a customer account. Raises ValidationFailed for a duplicate external_id."""
    external_id = fields.get("external_id", account.external_id if account else "")
    clash = CustomerAccount.objects.filter(organization=organization, external_id=external_id)
    if account is not None:
        clash = clash.exclude(pk=account.pk)
    if clash.exists():
        raise errors.ValidationFailed(field_errors={"external_id": ["An account with this external id exists."]})
    account = account or CustomerAccount(organization=organization)
    for name, value in fields.items():
        if name in ACCOUNT_FIELDS:
            setattr(account, name, value)
    account.save()
    return account


# --------------------------------------------------------------------------- audit


def audit_record(*, organization_id: int, user: Any, action: str, wave: Wave | None = None,
                 details: Mapping[str, Any] | None = None) -> AuditEvent:
    """Write one audit event (who, when, which wave and filter). Never raises on a missing user."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        organization_id=organization_id,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        wave=wave,
        details=dict(details or {}),
    )
