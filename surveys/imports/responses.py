"""Importing responses collected elsewhere (or a Kagami export): one response per row, a re-imported row skipped."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction

from surveys import errors, packing, services
from surveys.bulk import BulkResponse, responses_bulk_load
from surveys.imports import _checks as checks
from surveys.imports._checks import ImportResult, Problems, Progress
from surveys.imports.tables import import_failed, open_table
from surveys.models import Channel, CustomerAccount, ImportedResponseKey, Side, SurveyResponse, Wave, WaveStatus

# Respondent key columns, first found wins: ``response`` is what exports write (a customer response's id).
KEY_COLUMNS = ("response_id", "respondent_id", "response")
_LOCK_SPACE = 0x4B49  # pg_advisory_xact_lock's first key for response imports ("KI")


def _parse_weight(problems: Problems, number: int, value: str) -> float | None:
    if not value:
        return None
    try:
        weight = float(value)
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight) or weight <= 0:
        problems.add(number, "weight", f"Must be a positive number, got '{value}'.")
        return None
    return weight


def respondent_key_hash(*, wave: Wave, side: str, key: str) -> str:
    """The keyed hash stored for a respondent key (HMAC with the server secret): the raw key, perhaps an
    employee number, is never stored."""
    from django.utils.crypto import salted_hmac

    return salted_hmac("kagami.imports.respondent-key", f"{wave.pk}:{side}:{key}", algorithm="sha256").hexdigest()


def _existing_response_ids(wave: Wave, side: str, keys: Iterable[str]) -> set[str]:
    """Keys that are the ids of this wave's customer responses: an export of the wave imported again.
    Staff exports carry no id, and staff ids are never looked up."""
    import uuid as uuid_

    if side != Side.CUSTOMER:
        return set()
    ids = set()
    for key in keys:
        try:
            ids.add(uuid_.UUID(key))
        except ValueError:
            continue
    found = SurveyResponse.objects.filter(wave=wave, side=side, pk__in=ids).values_list("pk", flat=True)
    return {str(pk) for pk in found}


def _accounts_by_external_id(organization_id: int) -> dict[str, CustomerAccount]:
    return {a.external_id: a for a in CustomerAccount.objects.filter(organization_id=organization_id)}


def import_responses(*, wave: Wave, side: str, data: bytes, filename: str, skip_bad_rows: bool = False,
                     progress: Progress = None, allow_closed: bool = False,
                     max_rows: int | None = None, copy: bool | None = None,
                     quiet_database: bool = False) -> ImportResult:
    """Store one response per row through ``services.response_submit`` (channel "import").

    Columns: one per item key of the side (a value, empty, or "na"), language,
    comment, weight and account (customers), the side's segment fields, ``submitted_on`` (the day, else
    today) and a respondent key (``response_id``, ``respondent_id`` or an export's ``response``): a key
    imported into the wave's side before — or the id of one of its customer responses — makes the row a
    duplicate, skipped and listed in ``ImportResult.duplicates``. Only a keyed hash of a key is stored.
    A closed wave is refused unless ``allow_closed``. Raises ImportFailed listing every bad row and
    column; nothing is written then.

    On PostgreSQL (``copy`` None or True) the rows are stored by COPY (``surveys.bulk``): the same rows
    ``response_submit`` stores (``services.response_prepare`` builds them), in one transaction, imports
    into the same wave and side taking turns. ``quiet_database`` is the bulk loader's mode for millions of
    rows into a database nobody writes to meanwhile (it locks the response table).
    ``copy=False`` stores row by row through ``response_submit``, as on SQLite.
    """
    if side not in Side.values:
        raise import_failed(f"Unknown side '{side}': use staff or customer.")
    if wave.status == WaveStatus.CLOSED and not allow_closed:
        raise import_failed("This wave is closed; importing responses into it changes results already reported. "
                            "Reopen it, or confirm with --allow-closed.")
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    header, rows = table.header, table.rows
    items = services.survey_items(wave=wave, side=side)
    item_keys = [item.key for item in items]
    segment_keys = {f["key"] for f in wave.segment_fields(side)}
    key_column = next((c for c in KEY_COLUMNS if c in header), None)
    known = set(item_keys) | {"language", "comment", "submitted_on", "side"} | segment_keys | set(KEY_COLUMNS)
    if side == Side.CUSTOMER:
        known |= {"weight", "account"}
    ignored = checks.check_header(header, known=known)
    answered_columns = [key for key in item_keys if key in header]
    if not answered_columns:
        raise errors.ImportFailed(
            errors=[{"row": 1, "column": "", "message": "No column names an item of this survey; expected some of: "
                                                        + ", ".join(item_keys) + "."}],
            detail="No column names an item of this survey.",
        )
    accounts = _accounts_by_external_id(wave.organization_id) if side == Side.CUSTOMER and "account" in header else {}
    account_segment_keys = [k for k in ("tier", "touch_model", "plan", "region") if k in segment_keys]

    problems = Problems(header)
    planned: list[tuple[int, dict[str, Any], CustomerAccount | None, str]] = []
    keys_seen: dict[str, int] = {}
    duplicates: list[int] = []
    unkeyed: list[int] = []
    today = dt.date.today()
    for number, record in rows:
        checks.check_extra(problems, number, record)
        key = record.get(key_column, "") if key_column else ""
        if key_column and not key:
            if side == Side.STAFF and key_column == "response":
                # Kagami's own staff microdata: exports give staff rows no id (they stay unlinkable), so such a
                # row is imported without a key and said to be, not refused; a second import would add it again.
                unkeyed.append(number)
            else:
                problems.add(number, key_column, "Empty respondent key: without it a second import of this file "
                             "could not be recognised.")
                continue
        if key and key in keys_seen:
            duplicates.append(number)
            continue
        if record.get("side") and record["side"].strip().lower() != side:
            problems.add(number, "side", f"This row is a {record['side']} row; this import is for {side} responses.")
            continue
        submitted_on = checks.parse_date(problems, number, "submitted_on", record.get("submitted_on", ""))
        if submitted_on is not None and submitted_on > today:
            problems.add(number, "submitted_on", f"The day is in the future: '{record['submitted_on']}'.")
        answers = {key: record[key] for key in answered_columns if record.get(key, "") != ""}
        try:
            services.validate_answers(items=items, answers=answers, required=False)
        except errors.ValidationFailed as exc:
            for key, messages in exc.field_errors.items():
                column = key.removeprefix("answers.")
                problems.add(number, column, f"{' '.join(messages)} Got '{record.get(column, '')}'.")
        if not answers:
            problems.add(number, "", "This row answers no item.")
        language = checks.language(problems, number, record.get("language", ""), wave)
        comment = record.get("comment", "")
        checks.check_length(problems, number, "comment", comment, services.MAX_COMMENT_LENGTH)
        weight = _parse_weight(problems, number, record.get("weight", "")) if side == Side.CUSTOMER else None
        segments = checks.segments(problems, number, record, wave, side)
        account = None
        if side == Side.CUSTOMER and record.get("account"):
            account = accounts.get(record["account"])
            if account is None:
                problems.add(number, "account", f"No customer account with external id '{record['account']}'.")
            else:
                # As for invitations: the account's own attributes fill segment fields the row leaves empty.
                for name in account_segment_keys:  # not ``key``: that is the row's respondent key
                    value = getattr(account, name, "")
                    if value and name not in segments:
                        segments[name] = value
        if key:
            keys_seen[key] = number
        if not problems.has(number):
            planned.append((number, {"answers": answers, "language": language, "comment": comment,
                                     "weight": weight, "segments": segments, "submitted_on": submitted_on},
                            account, key))
    checks.raise_if_any(problems, skip_bad_rows)

    own_ids = _existing_response_ids(wave, side, (key for _n, _f, _a, key in planned if key))
    if copy is None:
        copy = connection.vendor == "postgresql"
    if copy:
        if connection.vendor != "postgresql":
            raise ValueError("The COPY path needs PostgreSQL.")
        with transaction.atomic():
            created = _store_by_copy(wave=wave, side=side, planned=planned, own_ids=own_ids, problems=problems,
                                     duplicates=duplicates, progress=progress, quiet_database=quiet_database)
            checks.raise_if_any(problems, skip_bad_rows)
        return ImportResult(created=len(created), skipped=problems.all(), objects=created, ignored_columns=ignored,
                            duplicates=sorted(duplicates),
                            unkeyed=[n for n in unkeyed if n in {row for row, *_ in planned}])
    created = []
    with transaction.atomic():
        for number, fields, account, key in planned:
            if key in own_ids:
                duplicates.append(number)
                checks.done(progress)
                continue
            try:
                with transaction.atomic():
                    if key:
                        # The unique key decides, also against an import of the same file running meanwhile.
                        try:
                            with transaction.atomic():
                                ImportedResponseKey.objects.create(
                                    key_hash=respondent_key_hash(wave=wave, side=side, key=key),
                                    wave=wave, side=side)
                        except IntegrityError:
                            duplicates.append(number)
                            checks.done(progress)
                            continue
                    response = services.response_submit(wave=wave, side=side, channel=Channel.IMPORT,
                                                        required=False, **fields)
                    if account is not None:
                        # response_submit links accounts through invitations only; imports name them directly.
                        response.customer_account = account
                        response.save(update_fields=["customer_account"])
                created.append(response)
            except errors.KagamiError as exc:
                for key, messages in (exc.field_errors or {"": [exc.detail]}).items():
                    problems.add(number, key.removeprefix("answers.").removeprefix("segments."), " ".join(messages))
            checks.done(progress)
        checks.raise_if_any(problems, skip_bad_rows)
    return ImportResult(created=len(created), skipped=problems.all(), objects=created, ignored_columns=ignored,
                        duplicates=sorted(duplicates),
                        unkeyed=[n for n in unkeyed if n in {row for row, *_ in planned}])


def _store_by_copy(*, wave: Wave, side: str, planned: list, own_ids: set[str], problems: Problems,
                   duplicates: list[int], progress: Progress, quiet_database: bool) -> list[SurveyResponse]:
    """Store the planned rows by COPY, in the caller's transaction; the rows stored (unsaved objects' state aside).

    The same rows as the row-by-row path: ``response_prepare`` is its checks and its row. Exactly once: imports
    into this wave's side take turns (a transaction-level advisory lock), so the keys found already imported
    are all there are; a key inserted by anything else meanwhile still fails the unique key, and the whole
    import with it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, wave.pk * 2 + (side == Side.STAFF)])
    hashes = {key: respondent_key_hash(wave=wave, side=side, key=key) for _n, _f, _a, key in planned if key}
    known = set(ImportedResponseKey.objects.filter(key_hash__in=list(hashes.values()))
                .values_list("key_hash", flat=True))
    rows, keys, created = [], [], []
    for number, fields, account, key in planned:
        if key in own_ids or (key and hashes[key] in known):
            duplicates.append(number)
            checks.done(progress)
            continue
        try:
            response, cleaned = services.response_prepare(wave=wave, side=side, channel=Channel.IMPORT,
                                                          required=False, **fields)
        except errors.KagamiError as exc:
            for name, messages in (exc.field_errors or {"": [exc.detail]}).items():
                problems.add(number, name.removeprefix("answers.").removeprefix("segments."), " ".join(messages))
            checks.done(progress)
            continue
        if account is not None:
            response.customer_account = account  # as the row-by-row path does after storing
        response.answers_packed = packing.pack(cleaned)  # what the COPY stores, as the row-by-row path sets it
        rows.append(BulkResponse(
            id=response.id, wave_id=wave.pk, side=response.side, answers=list(cleaned.items()),
            language=response.language, channel=response.channel, segments=response.segments,
            weight=response.weight, comment=response.comment, submitted_on=response.submitted_on,
            submitted_at=response.submitted_at, invitation_id=None, customer_account_id=response.customer_account_id))
        created.append(response)
        if key:
            keys.append(hashes[key])
    # A row refused here is left out; unless bad rows are skipped, the caller raises and nothing is kept.
    # Sorted: the keys' physical order says nothing of the rows' (P1, as the hash primary key already ensures).
    ImportedResponseKey.objects.bulk_create([ImportedResponseKey(key_hash=h, wave=wave, side=side)
                                             for h in sorted(keys)], batch_size=5000)
    responses_bulk_load(rows, rebuild_indexes=quiet_database, progress=progress)
    for response in created:
        response._state.adding = False
        response._state.db = connection.alias
    return created
