"""Exports of a wave's responses as CSV (streamed) and XLSX.

Both formats share one column layout and one row builder. Staff rows are the
k-anonymous microdata of :mod:`surveys.microdata` (disclosure promise P6):
published responses only, released segment values, withheld answers marked,
and no id, day, channel, language or comment. Customer rows are published
responses with their identifying columns. Every text cell a spreadsheet could
run as a formula is neutralised (OWASP "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from surveys import disclosure, errors, microdata, releases, services
from surveys.models import AuditEvent, Side, SurveyResponse, Wave

# Full-width variants too: Japanese input methods produce them, and Excel treats ＝ like = on entry.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_XLSX_MAX_ROWS = 1_048_576
_FIXED_COLUMNS = ["response", "side", "language", "channel", "submitted_on"]
NOT_APPLICABLE = "na"  # the value imports accept for "don't know / not applicable"


def neutralize_cell(value: object) -> object:
    """Prefix ``'`` to a string a spreadsheet could treat as a formula; leave anything else alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _layout(wave: Wave, side: str | None) -> tuple[list[str], list[tuple[str, str]], list]:
    """Header, (column, segment key) pairs and items of an export."""
    sides = [side] if side else [Side.STAFF, Side.CUSTOMER]
    items: list = []
    seen_items: set[int] = set()
    for s in sides:
        for item in services.survey_items(wave=wave, side=s):
            if item.pk not in seen_items:
                seen_items.add(item.pk)
                items.append(item)
    item_keys = {item.key for item in items}
    reserved = set(_FIXED_COLUMNS) | {"weight", "account", "comment"} | item_keys
    segment_columns: list[tuple[str, str]] = []
    seen_segments: set[str] = set()
    # A one-side export carries only that side's segment fields; a whole-wave export carries both.
    for s in sides:
        for field in wave.segment_fields(s):
            key = field["key"]
            if key in seen_segments:
                continue
            seen_segments.add(key)
            column = f"segment_{key}" if key in reserved else key
            segment_columns.append((column, key))
    header = [*_FIXED_COLUMNS, *(c for c, _ in segment_columns), "weight", "account",
              *(item.key for item in items), "comment"]
    return header, segment_columns, items


def _customer_responses(wave: Wave):
    return (
        microdata.published_responses(wave, Side.CUSTOMER)
        .select_related("customer_account")  # the answers are in the row: answers_packed, no second query
    )


def _rows(wave: Wave, side: str | None, segment_columns: list[tuple[str, str]], items: list) -> Iterator[list]:
    """Every exported row: the customers' published responses, then the staff microdata."""
    releases.publish_due(wave)
    if side in (None, Side.CUSTOMER):
        for response in _customer_responses(wave).iterator(chunk_size=2000):
            yield _row(response, segment_columns, items)
    if side in (None, Side.STAFF):
        plan = microdata.side_plan(wave, Side.STAFF)
        for segments, answers in microdata.staff_rows(wave, plan):
            yield _staff_row(segments, answers, segment_columns, items)


def _staff_row(segments: dict[str, str], answers: dict, segment_columns: list[tuple[str, str]],
               items: list) -> list[Any]:
    """A staff row as P6 allows it: released segments and answers, nothing that orders or links it."""
    row: list[Any] = ["", Side.STAFF, "", "", "",
                      *(disclosure.display_value(segments.get(key)) if key in segments else ""
                        for _, key in segment_columns), "", "", *_answer_cells(answers, items), ""]
    return [neutralize_cell(cell) for cell in row]


def _answer_cells(answers: dict, items: list) -> list[Any]:
    """One cell per item: blank where not asked, "na" for not applicable, else the value (or "withheld")."""
    return ["" if item.pk not in answers else (NOT_APPLICABLE if answers[item.pk] is None else answers[item.pk])
            for item in items]


def _count_rows(wave: Wave, side: str | None) -> int:
    return microdata.published_responses(wave, side).count()


def _plain(value: Any) -> Any:
    # Segments are cleaned to text on the way in, but a value from elsewhere (a list, None) must not break a sheet.
    if value is None:
        return ""
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else str(value)


def _row(response: SurveyResponse, segment_columns: list[tuple[str, str]], items: list) -> list[Any]:
    """A customer row (staff rows are built by :func:`_staff_row` from microdata)."""
    values = response.answer_values()
    segments = response.segments if isinstance(response.segments, dict) else {}
    row: list[Any] = [
        str(response.pk),
        response.side,
        response.language,
        response.channel,
        response.submitted_on,  # the day only, for every row
        *(_plain(segments.get(key, "")) for _, key in segment_columns),
    ]
    account = response.customer_account
    row += [response.weight if response.weight is not None else "", account.external_id if account else "",
            *_answer_cells(values, items), response.comment]
    return [neutralize_cell(cell) for cell in row]


class _Line:
    """A file-like object whose write returns what was written (csv.writer → one string per row)."""

    def write(self, value: str) -> str:
        return value


def _audit_export(wave: Wave, side: str | None, fmt: str, user: Any) -> None:
    # Every export is written to the audit log, whoever calls it (API, command line): staff rows carry
    # segments, so an export is a view of staff segment results. ``user`` None is recorded as "system".
    services.audit_record(organization_id=wave.organization_id, user=user, action=AuditEvent.Action.EXPORT,
                          wave=wave, details={"format": fmt, "side": side or "all"})


def responses_csv(*, wave: Wave, side: str | None = None, user: Any = None) -> Iterator[str]:
    """Stream a wave's responses as CSV lines: a UTF-8 BOM (for Excel), the header, then one row each.

    Raises ValidationFailed for an unknown side — now, not once a streaming response has started.
    Records the export in the audit log.
    """
    if side is not None and side not in Side.values:
        raise errors.ValidationFailed(field_errors={"side": [f"Must be staff or customer, got '{side}'."]})
    _audit_export(wave, side, "csv", user)
    return _csv_lines(wave, side)


def _csv_lines(wave: Wave, side: str | None) -> Iterator[str]:
    header, segment_columns, items = _layout(wave, side)
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([neutralize_cell(c) for c in header])
    for row in _rows(wave, side, segment_columns, items):
        yield writer.writerow([_csv_cell(c) for c in row])


def _csv_cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def responses_xlsx(*, wave: Wave, side: str | None = None, user: Any = None) -> bytes:
    """A wave's responses as an Excel workbook (one sheet, same columns as the CSV); audited like the CSV."""
    from openpyxl import Workbook  # imported here: only XLSX exports pay for it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if side is not None and side not in Side.values:
        raise errors.ValidationFailed(field_errors={"side": [f"Must be staff or customer, got '{side}'."]})
    header, segment_columns, items = _layout(wave, side)
    releases.publish_due(wave)
    if _count_rows(wave, side) >= _XLSX_MAX_ROWS:
        raise errors.ValidationFailed("Too many responses for one Excel sheet; export CSV instead.")
    _audit_export(wave, side, "xlsx", user)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="responses")

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            # Control characters are illegal in XLSX and would crash openpyxl; a comment may carry them.
            text = neutralize_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
            c = WriteOnlyCell(sheet, value=text)
            c.data_type = "s"  # never a formula, whatever openpyxl would guess
            return c
        if isinstance(value, Decimal):
            return float(value)
        if hasattr(value, "isoformat"):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = "yyyy-mm-dd"
            return c
        return value

    sheet.append([cell(neutralize_cell(c)) for c in header])
    for row in _rows(wave, side, segment_columns, items):
        sheet.append([cell(c) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["neutralize_cell", "responses_csv", "responses_xlsx"]
