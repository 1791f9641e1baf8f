"""Importing a customer account list: accounts created or updated by ``external_id``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from surveys.imports import _checks as checks
from surveys.imports._checks import ImportResult, Problems, Progress
from surveys.imports.tables import import_failed, open_table
from surveys.models import CustomerAccount, Organization

_ACCOUNT_COLUMNS = (
    "external_id", "name", "tier", "touch_model", "plan", "region", "arr", "status",
    "customer_since", "churned_on", "renewed_on", "health_score", "health_scored_on",
)
_TEXT_LIMITS = {"external_id": 120, "name": 200, "tier": 60, "plan": 60, "region": 60}
_MAX_ARR = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_NUMBER_RE = re.compile(r"^[¥$€£]?\s*\d{1,3}(,\d{3})+(\.\d+)?$")


def _parse_arr(problems: Problems, number: int, value: str) -> Decimal | None:
    if not value:
        return None
    text = value.strip()
    if _NUMBER_RE.match(text):  # thousands separators as Excel shows them: 1,200,000
        text = text.lstrip("¥$€£ ").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        problems.add(number, "arr", f"Must be a non-negative number, got '{value}'.")
        return None
    if amount > _MAX_ARR:
        problems.add(number, "arr", f"Must be at most {_MAX_ARR:,}, got '{value}'.")
        return None
    return amount.quantize(Decimal("0.01"))


def _parse_health_score(problems: Problems, number: int, value: str) -> int | None:
    """A 0-100 whole-number health score; Excel's "85.0" is accepted, "85.5" is not."""
    if not value:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount != amount.to_integral_value() or not 0 <= amount <= 100:
        problems.add(number, "health_score", f"Must be a whole number from 0 to 100, got '{value}'.")
        return None
    return int(amount)


def _check_health_date(problems: Problems, number: int, values: dict[str, Any], record: dict[str, str],
                       stored_score: int | None) -> None:
    """Report a score date whose row leaves the account without a score (the database would refuse it)."""
    if values.get("health_scored_on") is None:
        return
    if "health_score" in values:
        if values["health_score"] is not None or record.get("health_score", ""):
            return  # a score, or a bad score cell already reported
    elif stored_score is not None:
        return
    problems.add(number, "health_scored_on", "A health score date needs a health score.")


def _choice(problems: Problems, number: int, column: str, value: str, choices: list[str]) -> str | None:
    folded = value.strip().lower()
    if folded in choices:
        return folded
    problems.add(number, column, f"Must be one of {', '.join(choices)}, got '{value}'.")
    return None


def accounts_header(*, header: list[str]) -> list[str]:
    """Check an account list's header; returns the ignored (unknown) columns."""
    return checks.check_header(header, known=set(_ACCOUNT_COLUMNS), required=["external_id"])


def import_accounts(*, organization: Organization, data: bytes, filename: str, skip_bad_rows: bool = False,
                    progress: Progress = None, max_rows: int | None = None) -> ImportResult:
    """Create or update customer accounts by ``external_id``.

    Only the columns present in the file are written; an empty cell clears the
    value (``status`` falls back to active). Raises ImportFailed listing every
    bad row and column; nothing is written then.
    """
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    header, rows = table.header, table.rows
    ignored = accounts_header(header=header)
    columns = [c for c in _ACCOUNT_COLUMNS if c in header and c != "external_id"]

    problems = Problems(header)
    # A file with a score date but no score column leans on the scores already stored.
    stored_scores: dict[str, int] = {}
    if "health_scored_on" in columns and "health_score" not in columns:
        stored_scores = dict(CustomerAccount.objects.filter(organization=organization, health_score__isnull=False)
                             .values_list("external_id", "health_score"))
    first_seen: dict[str, int] = {}
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for number, record in rows:
        checks.check_extra(problems, number, record)
        external_id = record.get("external_id", "")
        if not external_id:
            problems.add(number, "external_id", "An external id is required.")
        elif external_id in first_seen:
            problems.add(number, "external_id", f"'{external_id}' also appears in row {first_seen[external_id]}.")
        else:
            first_seen[external_id] = number
        values: dict[str, Any] = {}
        for column in columns:
            raw = record.get(column, "")
            if column in _TEXT_LIMITS:
                checks.check_length(problems, number, column, raw, _TEXT_LIMITS[column])
                values[column] = raw
            elif column == "touch_model":
                values[column] = _choice(problems, number, column, raw, CustomerAccount.TouchModel.values) if raw \
                    else ""
            elif column == "status":
                values[column] = _choice(problems, number, column, raw, CustomerAccount.Status.values) if raw \
                    else CustomerAccount.Status.ACTIVE
            elif column == "arr":
                values[column] = _parse_arr(problems, number, raw)
            elif column == "health_score":
                values[column] = _parse_health_score(problems, number, raw)
            else:
                values[column] = checks.parse_date(problems, number, column, raw)
        _check_health_date(problems, number, values, record, stored_scores.get(external_id))
        if external_id in stored_scores:
            # The upsert's proposed row must pass the date-needs-score check before it meets the stored
            # row; carrying the stored score satisfies it, and update_fields leaves the stored one as is.
            values["health_score"] = stored_scores[external_id]
        if external_id:
            checks.check_length(problems, number, "external_id", external_id, _TEXT_LIMITS["external_id"])
        if not problems.has(number):
            parsed.append((number, external_id, values))
    checks.raise_if_any(problems, skip_bad_rows)

    rows_out = [CustomerAccount(organization=organization, external_id=external_id, **values)
                for _number, external_id, values in parsed]
    try:
        with transaction.atomic():
            # One INSERT … ON CONFLICT DO UPDATE per batch: bulk_update's CASE WHEN is quadratic
            # (10k updates took ~25 s), and the upsert also settles a race with a concurrent import.
            for start in range(0, len(rows_out), 1000):
                batch = rows_out[start:start + 1000]
                if columns:
                    CustomerAccount.objects.bulk_create(batch, update_conflicts=True,
                                                        unique_fields=["organization", "external_id"],
                                                        update_fields=columns)
                else:
                    CustomerAccount.objects.bulk_create(batch, ignore_conflicts=True)
                checks.done(progress, len(batch))
    except IntegrityError:
        # A check constraint the row checks above missed; never a 500.
        raise import_failed("The accounts could not be saved; nothing was imported.") from None
    wanted = {external_id for _number, external_id, _values in parsed}
    saved = [a for a in CustomerAccount.objects.filter(organization=organization) if a.external_id in wanted]
    return ImportResult(created=len(saved), skipped=problems.all(), objects=saved, ignored_columns=ignored)
