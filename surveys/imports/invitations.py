"""Importing a contact list: one invitation per row (email, name, language, account, segment fields)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from surveys import errors, invitation_batches, services
from surveys.imports import _checks as checks
from surveys.imports._checks import ImportResult, Problems, Progress
from surveys.imports.tables import import_failed, open_table
from surveys.models import Side, Wave, WaveStatus


def invitations_header(*, wave: Wave, side: str, header: list[str]) -> list[str]:
    """Check a contact list's header; returns the ignored (unknown) columns."""
    if side not in Side.values:
        raise import_failed(f"Unknown side '{side}': use staff or customer.")
    segment_keys = {f["key"] for f in wave.segment_fields(side)}
    known = {"email", "name", "language", "account"} | segment_keys
    ignored = checks.check_header(header, known=known)
    if not set(header) & known:
        raise import_failed("None of the columns is known (got " + ", ".join(f"'{h}'" for h in header if h)
                            + "): expected email, name, language"
                            + (", account" if side == Side.CUSTOMER else "")
                            + "".join(f", {k}" for k in sorted(segment_keys)) + ".", row=1)
    return ignored


def import_invitations(*, wave: Wave, side: str, data: bytes, filename: str, skip_bad_rows: bool = False,
                       progress: Progress = None, max_rows: int | None = None) -> ImportResult:
    """Create one invitation per row (email, name, language, account, segment fields).

    Raises ImportFailed listing every bad row and column; nothing is written then.
    """
    if side not in Side.values:
        raise import_failed(f"Unknown side '{side}': use staff or customer.")
    if wave.status == WaveStatus.CLOSED:
        raise import_failed("This wave is closed; reopen it before inviting more people.")
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    header, rows = table.header, table.rows
    ignored = invitations_header(wave=wave, side=side, header=header)

    # The rules every contact meets, whichever way it arrives (shared with the API's bulk create); the
    # staff e-mail rule is the caller's context (services.staff_invitations_by_email_only).
    rules = invitation_batches.ContactRules(wave, side, staff_email_required=False)
    problems = Problems(header)
    planned: list[tuple[int, dict[str, Any]]] = []
    for number, record in rows:
        checks.check_extra(problems, number, record)
        email = record.get("email", "")
        if email:
            checks.check_length(problems, number, "email", email, 254)
            try:
                validate_email(email)
            except DjangoValidationError:
                problems.add(number, "email", f"Not a valid email address: '{email}'.")
                email = ""  # reported; not checked again as an address
        name = record.get("name", "")
        checks.check_length(problems, number, "name", name, 200)
        language = checks.language(problems, number, record.get("language", ""), wave)
        segments = checks.segments(problems, number, record, wave, side)
        found, fields = rules.problems(invitation_batches.Contact(
            email=email, name=name, language=language or "", account=record.get("account", ""), segments=segments),
            f"row {number}")
        for key, messages in found.items():
            problems.add(number, key.removeprefix("segments."), " ".join(messages))
        if not problems.has(number):
            planned.append((number, {**fields, "language": language}))
    checks.raise_if_any(problems, skip_bad_rows)

    created = []
    with transaction.atomic():
        for number, fields in planned:
            try:
                with transaction.atomic():
                    created.append(services.invitation_create(wave=wave, side=side, **fields))
            except errors.ValidationFailed as exc:
                for key, messages in (exc.field_errors or {"": [exc.detail]}).items():
                    column = "account" if key == "customer_account" else key.removeprefix("segments.")
                    problems.add(number, column, " ".join(messages))
            checks.done(progress)
        checks.raise_if_any(problems, skip_bad_rows)
    return ImportResult(created=len(created), skipped=problems.all(), objects=created, ignored_columns=ignored)
