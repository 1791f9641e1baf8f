"""Submitting a response: the items asked, the answers checked, and the one guarded INSERT that stores them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from surveys import errors, internal, packing, selectors
from surveys.models import (
    Channel,
    CustomerAccount,
    Invitation,
    InvitationUse,
    ItemPair,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
)
from surveys.services.segments import clean_segments

MAX_COMMENT_LENGTH = 5000


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
    response, cleaned = response_prepare(
        wave=wave, side=side, answers=answers, language=language, channel=channel, comment=comment,
        segments=segments, invitation=invitation, weight=weight, required=required,
        customer_account=customer_account, submitted_on=submitted_on)
    if invitation is None and connection.vendor == "postgresql":
        # One statement, outside any transaction of ours: the version triggers' row lock
        # (reports_waveversionshard, one of a wave's 16 shards) is held for that statement only.
        stored = _response_insert(response, cleaned, require_open=channel != Channel.IMPORT,
                                  anonymous_link_id=anonymous_link_id)
    else:
        with transaction.atomic():
            if invitation is not None:
                _use_invitation(invitation)
            stored = _response_insert(response, cleaned, require_open=channel != Channel.IMPORT,
                                      anonymous_link_id=anonymous_link_id)
            if not stored:
                raise errors.WaveNotCollecting()  # rolls back: the invitation stays unused
    if not stored:
        raise errors.WaveNotCollecting()
    response._state.adding = False
    response._state.db = connection.alias
    return response


def response_prepare(*, wave: Wave, side: str, answers: Mapping[str, Any], language: str,
                     channel: str = Channel.ANONYMOUS, comment: str = "", segments: Mapping[str, Any] | None = None,
                     invitation: Invitation | None = None, weight: float | None = None,
                     required: bool = True, customer_account: CustomerAccount | None = None,
                     submitted_on: dt.date | None = None) -> tuple[SurveyResponse, dict[int, int | None]]:
    """``response_submit``'s checks and the row it would store, unsaved, with its answers (item id → value).

    The COPY path of imports (``surveys.imports.responses``) stores what this returns, so that both
    paths write the same rows; it raises what ``response_submit`` raises before storing.
    """
    if not wave.is_collecting and channel != Channel.IMPORT:
        raise errors.WaveNotCollecting()
    if internal.is_internal(wave):
        # One submission of an internal wave rates several departments at once: internal_submit.
        raise errors.ValidationFailed(field_errors={"departments": [
            "An internal wave takes answers per serving department, through its invitations' forms only."]})
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

    is_staff = internal.protected_side(wave, side)  # staff, or employees of an internal wave: unlinkable
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
    return response, cleaned


_RESPONSE_FIELDS = ("id", "wave", "side", "language", "channel", "segments", "weight", "comment", "submitted_on",
                    "submitted_at", "invitation", "customer_account", "served_department", "answers_packed")


def _use_invitation(invitation: Invitation) -> None:
    """Mark the invitation used, inside the caller's transaction: the one exactly-once rule of both submission
    paths (the unique InvitationUse row; a second use raises AlreadyAnswered and the caller's rows roll back)."""
    try:
        with transaction.atomic():
            InvitationUse.objects.create(invitation=invitation)
    except IntegrityError:
        raise errors.AlreadyAnswered() from None


def internal_submit(*, wave: Wave, side: str, ratings: Mapping[str, Mapping[str, Any]], language: str,
                    invitation: Invitation | None, channel: str = Channel.INVITATION,
                    required: bool = True) -> list[SurveyResponse]:
    """Store one respondent's answers to an internal wave: one unlinkable row per department rated.

    ``ratings``: department key → raw answers (as :func:`validate_answers` takes them). Staff rate their own
    department only, which comes from their invitation (the roster's ``served_department``), never from the
    form; employees rate each department they used, each once. Only invitations (and the demo) answer: an
    anonymous link would let one person pad a department's group (P5). The invitation is used once for the
    whole submission, in the same transaction as the rows, which carry no invitation, account, time or
    comment (docs/anonymity.md, "Internal services"). Raises ValidationFailed naming
    ``departments`` or ``<department>.answers.<item>``, AlreadyAnswered, WaveNotCollecting.
    """
    if not internal.is_internal(wave):
        raise errors.ValidationFailed(field_errors={"departments": ["Only internal waves rate departments."]})
    if not wave.is_collecting:
        raise errors.WaveNotCollecting()
    if invitation is None and channel != Channel.DEMO:
        raise errors.ValidationFailed(field_errors={"departments": ["Internal waves are answered by invitation."]})
    if invitation is not None and (invitation.wave_id != wave.pk or invitation.side != side):
        raise errors.NotFound()
    if language not in wave.languages:
        language = wave.default_language
    if side == Side.STAFF and invitation is not None:
        own = str(invitation.segments.get(internal.DEPARTMENT_FIELD, ""))
        if own not in internal.department_keys(wave):
            raise errors.ValidationFailed(field_errors={"departments": [
                "This invitation names no serving department of the wave."]})
        if set(ratings) - {own}:
            raise errors.ValidationFailed(field_errors={"departments": ["Staff answer for their own department."]})
        ratings = {own: ratings.get(own, {})}
    rated = internal.check_rated(wave, side, ratings.keys())
    items = survey_items(wave=wave, side=side)
    cleaned: dict[str, dict[int, int | None]] = {}
    problems: dict[str, list[str]] = {}
    for department in rated:
        try:
            cleaned[department] = validate_answers(items=items, answers=ratings[department], required=required)
        except errors.ValidationFailed as exc:
            problems.update({f"{department}.{name}": messages for name, messages in exc.field_errors.items()})
    if problems:
        raise errors.ValidationFailed("Some answers are not valid.", field_errors=problems)
    segments = dict(invitation.segments) if invitation is not None else {}
    segments.pop(internal.DEPARTMENT_FIELD, None)  # the department is the partition, not a segment value
    stored: list[SurveyResponse] = []
    with transaction.atomic():
        if invitation is not None:
            _use_invitation(invitation)
        for department in rated:
            response = SurveyResponse(
                wave=wave, side=side, language=language, channel=channel, segments=segments, weight=None,
                comment="", submitted_on=timezone.localdate(), submitted_at=None, invitation=None,
                customer_account=None, served_department=department)
            if not _response_insert(response, cleaned[department], require_open=True, anonymous_link_id=None):
                raise errors.WaveNotCollecting()  # rolls back: the invitation stays unused
            response._state.adding = False
            response._state.db = connection.alias
            stored.append(response)
    return stored


def _guard_sql(*, require_open: bool, with_link: bool) -> str:
    """The wave's row when it still takes this response (the INSERT's source: no row, nothing stored)."""
    sql = "SELECT w.id FROM surveys_wave w WHERE w.id = %s"
    if require_open:
        sql += f" AND w.status = '{WaveStatus.OPEN.value}'"
    if with_link:
        sql += (" AND EXISTS (SELECT 1 FROM surveys_anonymouslink l"
                " WHERE l.id = %s AND l.wave_id = w.id AND l.is_active)")
    return sql


@functools.cache
def _insert_statement(*, require_open: bool, with_link: bool) -> str:
    """The INSERT … SELECT of ``_response_insert``; its text is built once per process for each kind of guard."""
    columns = ", ".join(SurveyResponse._meta.get_field(name).column for name in _RESPONSE_FIELDS)
    # The wave's id comes from the guard's row: no row, nothing inserted.
    row = ", ".join("g.id" if name == "wave" else "%s" for name in _RESPONSE_FIELDS)
    guard = _guard_sql(require_open=require_open, with_link=with_link)
    return f"INSERT INTO surveys_surveyresponse ({columns}) SELECT {row} FROM ({guard}) g"


@functools.cache
def _param_fields() -> tuple:
    """The fields of ``_RESPONSE_FIELDS`` sent as parameters, in order (all but the wave, which the guard gives)."""
    return tuple(SurveyResponse._meta.get_field(name) for name in _RESPONSE_FIELDS if name != "wave")


def _response_insert(response: SurveyResponse, cleaned: Mapping[int, int | None], *, require_open: bool,
                     anonymous_link_id: int | None) -> bool:
    """Store ``response`` with its answers unless the wave closed (or the link was switched off); True if stored.

    One INSERT … SELECT on every database: the guard's row is its source, and the answers travel packed in
    the row (``surveys.packing``; no answer rows). Hand-written SQL: the ORM's create() costs more CPU than
    the database does. Runs in the caller's transaction, if any.
    """
    response.answers_packed = packing.pack(cleaned)
    params = [f.get_db_prep_save(getattr(response, f.attname), connection) for f in _param_fields()]
    params.append(response.wave_id)
    if anonymous_link_id is not None:
        params.append(anonymous_link_id)
    with connection.cursor() as cursor:
        cursor.execute(_insert_statement(require_open=require_open, with_link=anonymous_link_id is not None), params)
        return cursor.rowcount == 1
