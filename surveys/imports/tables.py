"""Reading an uploaded CSV or XLSX file as a table: its header at once, its non-blank rows as they are iterated.

Whatever the file's encoding (UTF-8, UTF-16 as Excel's "Unicode text", Shift_JIS/CP932 as Japanese Excel
writes), delimiter or format, callers get header names stripped and lower-cased and each row as ``(row number
as Excel shows it, {header: stripped text})``. Bad files are an ``ImportFailed`` naming the row and column,
too large ones an ``ImportTooLarge`` (413); nothing here knows what the rows mean (see the importers).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from surveys import errors

Row = tuple[int, dict[str, str]]

# Cells beyond the last header cell land here, so the row can be reported (usually a stray delimiter).
EXTRA_CELLS = "#extra"
MAX_COLUMNS = 1_000  # a header (or a row) wider than this is not a table anyone exported


def import_failed(message: str, *, row: int = 0, column: str = "") -> errors.ImportFailed:
    """The ImportFailed for one problem (``row`` 0: the file as a whole), to raise."""
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
            raise import_failed(f"The file mixes text encodings: row {mixed} is not UTF-8 but earlier rows are. "
                                "Save the whole file again as CSV UTF-8 (or as Shift_JIS/CP932).", row=mixed)
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            pass
    raise import_failed(
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
        raise import_failed(f"The CSV file is malformed near row {reader.line_num}: {exc}.",
                            row=reader.line_num) from None


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
    return import_failed(f"The Excel file could not be read ({exc.__class__.__name__}); save it again as .xlsx.")


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
        raise import_failed("The Excel file has no worksheet.")
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
                raise import_failed(f"Row {number} has a cell beyond column {MAX_COLUMNS}; at most {MAX_COLUMNS} "
                                    "columns are imported.", row=number)
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


def open_rows(*, data: bytes, filename: str, max_rows: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """A CSV or XLSX file's rows as they are, header rows included: ``(row number as Excel shows it, [stripped
    cells])``, blank XLSX rows left out. For files whose header is more than one row (exports of survey tools);
    :func:`open_table` is the reader of one-row headers. Raises as :func:`open_table` does; past ``max_rows``
    data rows (after the first) an ImportTooLarge, for XLSX only (a CSV caller counts its own rows).
    """
    limit = settings.KAGAMI_MAX_IMPORT_BYTES
    if len(data) > limit:
        message = f"The file is larger than the {limit // 1_048_576 or 1} MB limit for imports."
        raise errors.ImportTooLarge([{"row": 0, "column": "", "message": message}], detail=message)
    if not data.strip():
        raise import_failed("The file is empty.")
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data, max_rows)
    if name.endswith((".xls", ".xlsb", ".ods", ".numbers")) or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise import_failed("Old Excel (.xls) and other spreadsheet formats are not supported; save as .xlsx or CSV.")
    if name.endswith((".xlsx", ".xlsm")):
        raise import_failed("The file is named .xlsx but is not an Excel workbook; save it again as .xlsx.")
    if name.endswith((".csv", ".tsv", ".txt")) or "." not in name.rsplit("/", 1)[-1]:
        return _csv_rows(data)
    raise import_failed("Unsupported file type: upload a .csv or .xlsx file.")


def open_table(*, data: bytes, filename: str, max_rows: int | None = None) -> Table:
    """Open a CSV or XLSX file: its header now, its non-blank rows as they are iterated.

    Header names are stripped and lower-cased; each row is ``(row number as Excel shows it, {header:
    stripped text})``. Only the header is read here, so callers check it before any row is read. Raises
    ImportFailed for an empty, undecodable, unsupported file or a bad header, ImportTooLarge (413) for
    one over ``KAGAMI_MAX_IMPORT_BYTES``; iterating the rows raises ImportTooLarge past ``max_rows``
    data rows, and ImportFailed for a cell longer than ``KAGAMI_IMPORT_MAX_CELL_CHARS``.
    """
    raw_rows = open_rows(data=data, filename=filename, max_rows=max_rows)

    first = next(raw_rows, None)
    if first is None:
        raise import_failed("The file is empty.")
    header_row, header_cells = first
    header = [cell.strip().lstrip("\ufeff").strip().lower() for cell in header_cells]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise import_failed("The first row must name the columns.", row=header_row)
    if len(header) > MAX_COLUMNS:
        raise import_failed(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are imported.",
                            row=header_row)
    seen: set[str] = set()
    for name_ in header:
        if name_ and name_ in seen:
            raise import_failed(f"The column '{name_}' appears more than once.", row=header_row, column=name_)
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
                raise import_failed("A byte-order mark (U+FEFF) is inside the data: the file was probably joined "
                                    "from several files; save it again as one CSV.", row=number, column=column)
            if len(cell) > cell_limit:
                raise import_failed(f"A cell holds at most {cell_limit:,} characters, got {len(cell):,}.",
                                    row=number, column=column)
        record = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(header) if key}
        extra = [cell for cell in cells[len(header):] if cell]
        if extra:
            record[EXTRA_CELLS] = str(len(extra))
        yield number, record


def table_records(raw_rows: Iterator[tuple[int, list[str]]], header: list[str],
                  max_rows: int | None = None) -> Iterator[Row]:
    """Rows of :func:`open_rows` (past the header) as :func:`open_table` gives them, with the same checks,
    for a header the caller built (every name non-empty and unique)."""
    return _records(raw_rows, header, max_rows)


def read_table(*, data: bytes, filename: str, max_rows: int | None = None) -> tuple[list[str], list[Row]]:
    """:func:`open_table` with every row read: the header and a list of the non-blank rows."""
    table = open_table(data=data, filename=filename, max_rows=max_rows)
    return table.header, list(table.rows)
