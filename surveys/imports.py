"""Imports from CSV and XLSX: invitations (contact lists), customer accounts, responses.

Every importer works in two passes: it checks every row first (no writes) and
collects each problem as ``{"row", "column", "message"}`` — ``row`` as the user
sees it in Excel (the header is row 1; 0 means the file as a whole) — then
writes the good rows in one transaction. Any problem raises ``ImportFailed``
and nothing is written, unless ``skip_bad_rows=True``: then the good rows are
imported and the bad ones come back in ``ImportResult.skipped``.

Columns the importer does not know are ignored, never an error (exports from
other tools carry many), and listed in ``ImportResult.ignored_columns`` so a
typo in a header ("emial") is visible to whoever runs the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from surveys import disclosure, errors, invitation_batches, services
from surveys.models import (
    Channel,
    CustomerAccount,
    ImportedResponseKey,
    Organization,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
)

Row = tuple[int, dict[str, str]]
Progress = Callable[[int], None] | None

# Cells beyond the last header cell land here, so the row can be reported (usually a stray delimiter).
EXTRA_CELLS = "#extra"
MAX_COLUMNS = 1_000  # a header (or a row) wider than this is not a table anyone exported

_ACCOUNT_COLUMNS = (
    "external_id", "name", "tier", "touch_model", "plan", "region", "arr", "status",
    "customer_since", "churned_on", "renewed_on",
)
_TEXT_LIMITS = {"external_id": 120, "name": 200, "tier": 60, "plan": 60, "region": 60}
_MAX_ARR = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_LANGUAGE_ALIASES = {
    "ja": "ja", "jp": "ja", "japanese": "ja", "日本語": "ja",
    "en": "en", "english": "en", "英語": "en",
}


@dataclass
class ImportResult:
    created: int  # rows created (or updated, for accounts)
    skipped: list[dict]  # rows skipped because skip_bad_rows=True
    objects: list  # IssuedInvitation (invitations), CustomerAccount (accounts), SurveyResponse (responses)
    ignored_columns: list[str] = field(default_factory=list)  # header names the importer does not know
    duplicates: list[int] = field(default_factory=list)  # rows whose respondent key was imported before (responses)
    unkeyed: list[int] = field(default_factory=list)  # staff microdata rows: no key, so not recognised if re-imported


# --------------------------------------------------------------------------- reading files


def _fail(message: str, *, row: int = 0, column: str = "") -> errors.ImportFailed:
    return errors.ImportFailed(errors=[{"row": row, "column": column, "message": message}], detail=message)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab separated.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" not in text:  # NUL is binary data, and PostgreSQL refuses it in text columns
            return text
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        mixed = _mixed_encoding_row(data)
        if mixed:
            # CP932 would "decode" the UTF-8 rows too, into mojibake that looks like data.
            raise _fail(f"The file mixes text encodings: row {mixed} is not UTF-8 but earlier rows are. "
                        "Save the whole file again as CSV UTF-8 (or as Shift_JIS/CP932).", row=mixed)
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            pass
    raise _fail(
        "The file is not readable text: save it as CSV (UTF-8, or Shift_JIS/CP932 as Japanese Excel does) "
        "or as an Excel workbook (.xlsx)."
    )


def _mixed_encoding_row(data: bytes) -> int | None:
    """The first line that is not UTF-8 in a file whose other non-ASCII lines are, else None."""
    utf8_seen = False
    first_other: int | None = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_seen = True
        except UnicodeDecodeError:
            first_other = first_other or number
        if utf8_seen and first_other:
            return first_other
    return None


def _sniff_delimiter(text: str) -> str:
    # The header line decides: it has no quoted commas in practice, and csv.Sniffer guesses wrong on short files.
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        # Records, not physical lines: a quoted multi-line comment is one row in Excel too. Streamed: the
        # header is checked before the rows are read, and a row cap stops reading at the cap.
        for number, record in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in record]
    except csv.Error as exc:
        raise _fail(f"The CSV file is malformed near row {reader.line_num}: {exc}.", row=reader.line_num) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_unreadable(exc: BaseException) -> errors.ImportFailed:
    return _fail(f"The Excel file could not be read ({exc.__class__.__name__}); save it again as .xlsx.")


# A row element that holds a cell (blank rows Excel keeps for their formatting hold none).
_XLSX_ROW_WITH_CELLS = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?<!/)>\s*<(?:\w+:)?c\b")


def _xlsx_count_rows(archive: Any, path: str, limit: int) -> int:
    """Row elements holding cells in the sheet's XML, counted up to ``limit + 1`` without parsing it."""
    count, tail = 0, b""
    with archive.open(path) as source:
        while chunk := source.read(1 << 20):
            block = tail + chunk
            # A match across the seam is counted once: the tail kept is shorter than any match start after it.
            cut = max(0, len(block) - 512)
            count += len(_XLSX_ROW_WITH_CELLS.findall(block, 0, cut))
            tail = block[cut:]
            if count > limit:
                return count
    return count + len(_XLSX_ROW_WITH_CELLS.findall(tail))


def _open_xlsx(data: bytes) -> tuple[Any, Any]:
    """The workbook's reader and its first worksheet, without reading the worksheet.

    openpyxl's read-only mode scans a whole sheet for its size when the file does not state it (files
    written in write-only mode, and many other tools, do not): 40 s for a million rows before the first
    one is returned. This opens the workbook as read-only mode does, minus that scan.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class UnsizedSheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            return None

    class Reader(ExcelReader):
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    ws = UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
                    ws.sheet_state = sheet.state
                    self.wb._sheets.append(ws)

    archive = zipfile.ZipFile(io.BytesIO(data))
    # Shared strings are read whole: their declared (and enforced) unpacked size is capped first.
    strings = [i for i in archive.infolist() if i.filename.lower().endswith("sharedstrings.xml")]
    if any(info.file_size > 8 * settings.KAGAMI_MAX_IMPORT_BYTES for info in strings):
        raise errors.ImportTooLarge(
            [{"row": 0, "column": "", "message": "The Excel file's text unpacks to too much data."}],
            detail="The Excel file's text unpacks to too much data.")
    archive.close()
    reader = Reader(io.BytesIO(data), read_only=True, keep_links=False, data_only=True)
    reader.read()
    sheets = reader.wb.worksheets
    if not sheets:
        raise _fail("The Excel file has no worksheet.")
    return reader, sheets[0]


def _xlsx_rows(data: bytes, max_rows: int | None) -> Iterator[tuple[int, list[str]]]:
    from openpyxl.worksheet._reader import WorkSheetParser  # imported here: only XLSX imports pay for it

    try:
        reader, sheet = _open_xlsx(data)
    except errors.ImportFailed:
        raise
    except Exception as exc:  # corrupt workbooks raise zlib, zipfile, XML and key errors alike; never a 500
        raise _xlsx_unreadable(exc) from None
    workbook = reader.wb
    try:
        source = reader.archive.open(sheet._worksheet_path)
        parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats)
        counted = False
        for number, cells in parser.parse():
            # Row numbers come from the sheet itself, so they match what Excel shows even after blank rows.
            present = [c for c in cells if c.get("value") is not None]
            if not present:
                continue
            width = max(c["column"] for c in present)
            if width > MAX_COLUMNS:
                raise _fail(f"Row {number} has a cell beyond column {MAX_COLUMNS}; at most {MAX_COLUMNS} columns "
                            "are imported.", row=number)
            values = [""] * width
            for c in present:
                values[c["column"] - 1] = _cell_text(c["value"])
            yield number, values
            if max_rows is not None and not counted:
                # After the header (checked by the caller before asking for rows): one pass over the raw
                # XML counts the rows in a fraction of the time parsing them would take.
                counted = True
                if _xlsx_count_rows(reader.archive, sheet._worksheet_path, max_rows + 1) > max_rows + 1:
                    raise _too_many_rows(max_rows)
    except errors.ImportFailed:
        raise
    except Exception as exc:  # openpyxl raises many kinds on corrupt sheets; none may become a 500
        raise _xlsx_unreadable(exc) from None
    finally:
        reader.archive.close()


def _too_many_rows(limit: int) -> errors.ImportTooLarge:
    message = f"The file has more than {limit:,} rows, the limit for one import; split it into several files."
    return errors.ImportTooLarge([{"row": 0, "column": "", "message": message}], detail=message)


@dataclass
class Table:
    """A file's header and its rows, read lazily (see :func:`open_table`)."""

    header: list[str]
    header_row: int
    rows: Iterator[Row]


def open_table(*, data: bytes, filename: str, max_rows: int | None = None) -> Table:
    """Open a CSV or XLSX file: its header now, its non-blank rows as they are iterated.

    Header names are stripped and lower-cased; each row is ``(row number as Excel shows it, {header:
    stripped text})``. Only the header is read here, so callers check it before any row is read. Raises
    ImportFailed for an empty, undecodable, unsupported file or a bad header, ImportTooLarge (413) for
    one over ``KAGAMI_MAX_IMPORT_BYTES``; iterating the rows raises ImportTooLarge past ``max_rows``
    data rows, and ImportFailed for a cell longer than ``KAGAMI_IMPORT_MAX_CELL_CHARS``.
    """
    limit = settings.KAGAMI_MAX_IMPORT_BYTES
    if len(data) > limit:
        message = f"The file is larger than the {limit // 1_048_576 or 1} MB limit for imports."
        raise errors.ImportTooLarge([{"row": 0, "column": "", "message": message}], detail=message)
    if not data.strip():
        raise _fail("The file is empty.")
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        raw_rows = _xlsx_rows(data, max_rows)
    elif name.endswith((".xls", ".xlsb", ".ods", ".numbers")) or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail("Old Excel (.xls) and other spreadsheet formats are not supported; save as .xlsx or CSV.")
    elif name.endswith((".xlsx", ".xlsm")):
        raise _fail("The file is named .xlsx but is not an Excel workbook; save it again as .xlsx.")
    elif name.endswith((".csv", ".tsv", ".txt")) or "." not in name.rsplit("/", 1)[-1]:
        raw_rows = _csv_rows(data)
    else:
        raise _fail("Unsupported file type: upload a .csv or .xlsx file.")

    first = next(raw_rows, None)
    if first is None:
        raise _fail("The file is empty.")
    header_row, header_cells = first
    header = [cell.strip().lstrip("\ufeff").strip().lower() for cell in header_cells]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise _fail("The first row must name the columns.", row=header_row)
    if len(header) > MAX_COLUMNS:
        raise _fail(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are imported.", row=header_row)
    seen: set[str] = set()
    for name_ in header:
        if name_ and name_ in seen:
            raise _fail(f"The column '{name_}' appears more than once.", row=header_row, column=name_)
        seen.add(name_)
    return Table(header=header, header_row=header_row, rows=_records(raw_rows, header, max_rows))


def _records(raw_rows: Iterator[tuple[int, list[str]]], header: list[str],
             max_rows: int | None) -> Iterator[Row]:
    cell_limit = settings.KAGAMI_IMPORT_MAX_CELL_CHARS
    count = 0
    for number, cells in raw_rows:
        if not any(cells):
            continue
        count += 1
        if max_rows is not None and count > max_rows:
            raw_rows.close()
            raise _too_many_rows(max_rows)
        for index, cell in enumerate(cells):
            column = header[index] if index < len(header) else ""
            if "\ufeff" in cell:
                # A byte-order mark inside the data: files joined together, or a damaged export.
                raise _fail("A byte-order mark (U+FEFF) is inside the data: the file was probably joined from "
                            "several files; save it again as one CSV.", row=number, column=column)
            if len(cell) > cell_limit:
                raise _fail(f"A cell holds at most {cell_limit:,} characters, got {len(cell):,}.",
                            row=number, column=column)
        record = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(header) if key}
        extra = [cell for cell in cells[len(header):] if cell]
        if extra:
            record[EXTRA_CELLS] = str(len(extra))
        yield number, record


def read_table(*, data: bytes, filename: str, max_rows: int | None = None) -> tuple[list[str], list[Row]]:
    """:func:`open_table` with every row read: the header and a list of the non-blank rows."""
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    return table.header, list(table.rows)


# --------------------------------------------------------------------------- shared checks


class _Problems:
    """Problems found in a file, by row; within a row in the order of the file's columns."""

    def __init__(self, header: list[str]) -> None:
        self.by_row: dict[int, list[dict]] = {}
        self.position = {name: i for i, name in enumerate(header)}

    def add(self, row: int, column: str, message: str) -> None:
        self.by_row.setdefault(row, []).append({"row": row, "column": column, "message": message})

    def has(self, row: int) -> bool:
        return row in self.by_row

    def all(self) -> list[dict]:
        last = len(self.position)
        return [
            problem
            for row in sorted(self.by_row)
            for problem in sorted(self.by_row[row], key=lambda p: self.position.get(p["column"], last))
        ]

    def __bool__(self) -> bool:
        return bool(self.by_row)


def _raise_if_any(problems: _Problems, skip_bad_rows: bool) -> None:
    if problems and not skip_bad_rows:
        found = problems.all()
        rows = len(problems.by_row)
        raise errors.ImportFailed(
            errors=found,
            detail=f"{len(found)} problem(s) in {rows} row(s); nothing was imported.",
        )


def _check_header(header: list[str], *, known: set[str], required: Iterable[str] = ()) -> list[str]:
    missing = [name for name in required if name not in header]
    if missing:
        raise errors.ImportFailed(
            errors=[{"row": 1, "column": name, "message": f"The required column '{name}' is missing."}
                    for name in missing],
            detail="Required column(s) missing: " + ", ".join(missing) + ".",
        )
    return [name for name in header if name and name not in known]


def _check_extra(problems: _Problems, number: int, record: dict[str, str]) -> None:
    if EXTRA_CELLS in record:
        problems.add(number, "", f"This row has {record[EXTRA_CELLS]} more cell(s) than the header row "
                                 "(a stray delimiter or a missing quote?).")


def _check_length(problems: _Problems, number: int, column: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.add(number, column, f"At most {limit} characters, got {len(value)}.")


def _language(problems: _Problems, number: int, value: str, wave: Wave) -> str | None:
    if not value:
        return wave.default_language
    code = _LANGUAGE_ALIASES.get(value.strip().lower())
    if code is None:
        problems.add(number, "language", f"Must be 'ja' or 'en', got '{value}'.")
        return None
    if code not in wave.languages:
        problems.add(number, "language", f"This wave is offered in {', '.join(wave.languages)} only, got '{value}'.")
        return None
    return code


def _segments(problems: _Problems, number: int, record: dict[str, str], wave: Wave, side: str) -> dict:
    raw = {f["key"]: record[f["key"]] for f in wave.segment_fields(side) if record.get(f["key"])}
    for key, value in list(raw.items()):
        if value == disclosure.GENERALISED_LABEL:
            # A value an export withheld (a group under the threshold): not a value anybody gave.
            problems.add(number, key, f"'{value}' marks a value an export withheld; leave the cell empty.")
            del raw[key]
    try:
        return services.clean_segments(wave=wave, side=side, segments=raw)
    except errors.ValidationFailed as exc:
        for key, messages in exc.field_errors.items():
            problems.add(number, key.removeprefix("segments."), " ".join(messages))
        return {}


def _accounts_by_external_id(organization_id: int) -> dict[str, CustomerAccount]:
    return {a.external_id: a for a in CustomerAccount.objects.filter(organization_id=organization_id)}


def _done(progress: Progress, n: int = 1) -> None:
    if progress is not None:
        progress(n)


# --------------------------------------------------------------------------- invitations


def invitations_header(*, wave: Wave, side: str, header: list[str]) -> list[str]:
    """Check a contact list's header; returns the ignored (unknown) columns."""
    if side not in Side.values:
        raise _fail(f"Unknown side '{side}': use staff or customer.")
    segment_keys = {f["key"] for f in wave.segment_fields(side)}
    known = {"email", "name", "language", "account"} | segment_keys
    ignored = _check_header(header, known=known)
    if not set(header) & known:
        raise _fail("None of the columns is known (got " + ", ".join(f"'{h}'" for h in header if h)
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
        raise _fail(f"Unknown side '{side}': use staff or customer.")
    if wave.status == WaveStatus.CLOSED:
        raise _fail("This wave is closed; reopen it before inviting more people.")
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    header, rows = table.header, table.rows
    ignored = invitations_header(wave=wave, side=side, header=header)

    # The rules every contact meets, whichever way it arrives (shared with the API's bulk create); the
    # staff e-mail rule is the caller's context (services.staff_invitations_by_email_only).
    rules = invitation_batches.ContactRules(wave, side, staff_email_required=False)
    problems = _Problems(header)
    planned: list[tuple[int, dict[str, Any]]] = []
    for number, record in rows:
        _check_extra(problems, number, record)
        email = record.get("email", "")
        if email:
            _check_length(problems, number, "email", email, 254)
            try:
                validate_email(email)
            except DjangoValidationError:
                problems.add(number, "email", f"Not a valid email address: '{email}'.")
                email = ""  # reported; not checked again as an address
        name = record.get("name", "")
        _check_length(problems, number, "name", name, 200)
        language = _language(problems, number, record.get("language", ""), wave)
        segments = _segments(problems, number, record, wave, side)
        found, fields = rules.problems(invitation_batches.Contact(
            email=email, name=name, language=language or "", account=record.get("account", ""), segments=segments),
            f"row {number}")
        for key, messages in found.items():
            problems.add(number, key.removeprefix("segments."), " ".join(messages))
        if not problems.has(number):
            planned.append((number, {**fields, "language": language}))
    _raise_if_any(problems, skip_bad_rows)

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
            _done(progress)
        _raise_if_any(problems, skip_bad_rows)
    return ImportResult(created=len(created), skipped=problems.all(), objects=created, ignored_columns=ignored)


# --------------------------------------------------------------------------- accounts


def _parse_date(problems: _Problems, number: int, column: str, value: str) -> dt.date | None:
    if not value:
        return None
    text = value.strip()
    # Japanese Excel writes 2024/04/01; datetimes from XLSX arrive as "2024-04-01 09:30:00".
    text = text.split(" ", 1)[0].split("T", 1)[0].replace("/", "-")
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return dt.date(year, month, day)
    except (ValueError, TypeError):
        problems.add(number, column, f"Must be a date like 2024-04-01, got '{value}'.")
        return None


_NUMBER_RE = re.compile(r"^[¥$€£]?\s*\d{1,3}(,\d{3})+(\.\d+)?$")


def _parse_arr(problems: _Problems, number: int, value: str) -> Decimal | None:
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


def _choice(problems: _Problems, number: int, column: str, value: str, choices: list[str]) -> str | None:
    folded = value.strip().lower()
    if folded in choices:
        return folded
    problems.add(number, column, f"Must be one of {', '.join(choices)}, got '{value}'.")
    return None


def accounts_header(*, header: list[str]) -> list[str]:
    """Check an account list's header; returns the ignored (unknown) columns."""
    return _check_header(header, known=set(_ACCOUNT_COLUMNS), required=["external_id"])


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

    problems = _Problems(header)
    first_seen: dict[str, int] = {}
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for number, record in rows:
        _check_extra(problems, number, record)
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
                _check_length(problems, number, column, raw, _TEXT_LIMITS[column])
                values[column] = raw
            elif column == "touch_model":
                values[column] = _choice(problems, number, column, raw, CustomerAccount.TouchModel.values) if raw \
                    else ""
            elif column == "status":
                values[column] = _choice(problems, number, column, raw, CustomerAccount.Status.values) if raw \
                    else CustomerAccount.Status.ACTIVE
            elif column == "arr":
                values[column] = _parse_arr(problems, number, raw)
            else:
                values[column] = _parse_date(problems, number, column, raw)
        if external_id:
            _check_length(problems, number, "external_id", external_id, _TEXT_LIMITS["external_id"])
        if not problems.has(number):
            parsed.append((number, external_id, values))
    _raise_if_any(problems, skip_bad_rows)

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
                _done(progress, len(batch))
    except IntegrityError:
        # A check constraint the row checks above missed; never a 500.
        raise _fail("The accounts could not be saved; nothing was imported.") from None
    wanted = {external_id for _number, external_id, _values in parsed}
    saved = [a for a in CustomerAccount.objects.filter(organization=organization) if a.external_id in wanted]
    return ImportResult(created=len(saved), skipped=problems.all(), objects=saved, ignored_columns=ignored)


# --------------------------------------------------------------------------- responses


def _parse_weight(problems: _Problems, number: int, value: str) -> float | None:
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


# Respondent key columns, first found wins: ``response`` is what exports write (a customer response's id).
KEY_COLUMNS = ("response_id", "respondent_id", "response")


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


def import_responses(*, wave: Wave, side: str, data: bytes, filename: str, skip_bad_rows: bool = False,
                     progress: Progress = None, allow_closed: bool = False,
                     max_rows: int | None = None) -> ImportResult:
    """Store one response per row through ``services.response_submit`` (channel "import").

    Columns: one per item key of the side (a value, empty, or "na"), language,
    comment, weight and account (customers), the side's segment fields, ``submitted_on`` (the day, else
    today) and a respondent key (``response_id``, ``respondent_id`` or an export's ``response``): a key
    imported into the wave's side before — or the id of one of its customer responses — makes the row a
    duplicate, skipped and listed in ``ImportResult.duplicates``. Only a keyed hash of a key is stored.
    A closed wave is refused unless ``allow_closed``. Raises ImportFailed listing every bad row and
    column; nothing is written then.
    """
    if side not in Side.values:
        raise _fail(f"Unknown side '{side}': use staff or customer.")
    if wave.status == WaveStatus.CLOSED and not allow_closed:
        raise _fail("This wave is closed; importing responses into it changes results already reported. "
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
    ignored = _check_header(header, known=known)
    answered_columns = [key for key in item_keys if key in header]
    if not answered_columns:
        raise errors.ImportFailed(
            errors=[{"row": 1, "column": "", "message": "No column names an item of this survey; expected some of: "
                                                        + ", ".join(item_keys) + "."}],
            detail="No column names an item of this survey.",
        )
    accounts = _accounts_by_external_id(wave.organization_id) if side == Side.CUSTOMER and "account" in header else {}
    account_segment_keys = [k for k in ("tier", "touch_model", "plan", "region") if k in segment_keys]

    problems = _Problems(header)
    planned: list[tuple[int, dict[str, Any], CustomerAccount | None, str]] = []
    keys_seen: dict[str, int] = {}
    duplicates: list[int] = []
    unkeyed: list[int] = []
    today = dt.date.today()
    for number, record in rows:
        _check_extra(problems, number, record)
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
        submitted_on = _parse_date(problems, number, "submitted_on", record.get("submitted_on", ""))
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
        language = _language(problems, number, record.get("language", ""), wave)
        comment = record.get("comment", "")
        _check_length(problems, number, "comment", comment, services.MAX_COMMENT_LENGTH)
        weight = _parse_weight(problems, number, record.get("weight", "")) if side == Side.CUSTOMER else None
        segments = _segments(problems, number, record, wave, side)
        account = None
        if side == Side.CUSTOMER and record.get("account"):
            account = accounts.get(record["account"])
            if account is None:
                problems.add(number, "account", f"No customer account with external id '{record['account']}'.")
            else:
                # As for invitations: the account's own attributes fill segment fields the row leaves empty.
                for key in account_segment_keys:
                    value = getattr(account, key, "")
                    if value and key not in segments:
                        segments[key] = value
        if key:
            keys_seen[key] = number
        if not problems.has(number):
            planned.append((number, {"answers": answers, "language": language, "comment": comment,
                                     "weight": weight, "segments": segments, "submitted_on": submitted_on},
                            account, key))
    _raise_if_any(problems, skip_bad_rows)

    own_ids = _existing_response_ids(wave, side, (key for _n, _f, _a, key in planned if key))
    created = []
    with transaction.atomic():
        for number, fields, account, key in planned:
            if key in own_ids:
                duplicates.append(number)
                _done(progress)
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
                            _done(progress)
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
            _done(progress)
        _raise_if_any(problems, skip_bad_rows)
    return ImportResult(created=len(created), skipped=problems.all(), objects=created, ignored_columns=ignored,
                        duplicates=sorted(duplicates),
                        unkeyed=[n for n in unkeyed if n in {row for row, *_ in planned}])


def describe_problems(problems: list[dict], *, limit: int = 200) -> list[str]:
    """Problems as lines a person reads in a terminal: "Row 4, column 'arr': Must be …"."""
    lines = []
    for problem in problems[:limit]:
        where = f"Row {problem['row']}" if problem.get("row") else "File"
        if problem.get("column"):
            where += f", column '{problem['column']}'"
        lines.append(f"{where}: {problem['message']}")
    if len(problems) > limit:
        lines.append(f"… and {len(problems) - limit} more.")
    return lines


__all__ = ["EXTRA_CELLS", "ImportResult", "describe_problems", "import_accounts", "import_invitations",
           "import_responses", "read_table"]
