"""The shapes survey tools export: header rows, their column names, metadata columns, and the long format.

A file becomes a header of unique column names and rows ``(row number as Excel shows it, {name: cell})``,
the form :func:`surveys.imports.read_table` gives, so :mod:`reports.file_source` reads every tool alike.

Header rows (``header_rows`` None: found from the file):

- **Qualtrics** (found by its third row of ``{"ImportId": …}`` cells): three header rows; the first (the
  column ids, ``Q1``, ``Q2_3``, ``StartDate``) names the columns; the question texts and import ids are skipped.
- **SurveyMonkey** (found by ``Respondent ID`` and ``Collector ID`` in the first row): two header rows; a
  question heads its first column only, so it is carried right over the blank cells of its other columns, and
  the second row's answer or statement label is added after " - " (its "Response" label is not).
- Anything else (Google Forms, Microsoft Forms, LimeSurvey, a hand-made file): one header row.
- ``header_rows`` N given: the first N rows are the header; each column is named by its first-row cell (carried
  right over blank cells) and the non-empty cells below it, joined by " - ".

Names are lower-cased with single spaces; a blank name is ``#<column number>``; a name met again gets " (2)",
" (3)"… Nothing here reads the database.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from surveys import errors
from surveys.imports import open_rows, table_records
from surveys.imports.tables import Row, import_failed

# Columns survey tools add that are never items, whatever they hold (compared lower-case, single spaces).
METADATA = frozenset({
    "id", "timestamp", "タイムスタンプ", "start time", "completion time", "last modified time", "email", "name",
    "respondent id", "collector id", "start date", "end date", "ip address", "email address", "first name",
    "last name", "custom data 1", "startdate", "enddate", "status", "ipaddress", "progress",
    "duration (in seconds)", "finished", "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
    "recipientemail", "externalreference", "externaldatareference", "locationlatitude", "locationlongitude",
    "distributionchannel", "userlanguage", "submitdate", "lastpage", "startlanguage", "seed", "datestamp",
    "ipaddr", "refurl", "token", "response id", "メールアドレス", "メール アドレス", "名前", "開始時刻", "完了時刻",
})
_METADATA_PATTERN = re.compile(r"(^|\b)(e-?mail|ip address|timestamp|date|time|respondent id|response id)(\b|$)"
                               r"|(^|[\s_])id$|メール|日時|時刻")
_IMPORT_ID = re.compile(r'^\{\s*"importid"\s*:', re.IGNORECASE)


def is_metadata(name: str) -> bool:
    """Whether a column is a survey tool's identifier, time, e-mail or bookkeeping column (never an item)."""
    return name in METADATA or bool(_METADATA_PATTERN.search(name))


@dataclass
class ExportTable:
    """A file read as one header of unique names and its data rows."""

    header: list[str]
    rows: list[Row]
    tool: str  # "qualtrics", "surveymonkey", "plain", or "header-rows" (given by the caller)
    header_rows: int
    # Long format only: (first row of the respondent, item column) → the row of that cell in the file.
    cell_rows: dict[tuple[int, str], int] = field(default_factory=dict)

    def row_of(self, row: int, column: str) -> int:
        return self.cell_rows.get((row, column), row)


def _name(text: str) -> str:
    return " ".join(text.lstrip("\ufeff").split()).lower()


def _carried(cells: Sequence[str], width: int) -> list[str]:
    out, last = [], ""
    for j in range(width):
        cell = _name(cells[j]) if j < len(cells) else ""
        last = cell or last
        out.append(last)
    return out


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for j, name in enumerate(names, start=1):
        base = name or f"#{j}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate)
        out.append(candidate)
    return out


def _header(rows: list[list[str]], tool: str) -> list[str]:
    width = max(len(r) for r in rows)
    while width and not any(len(r) >= width and r[width - 1] for r in rows):  # trailing blank columns
        width -= 1
    if tool in ("plain", "qualtrics"):
        first = rows[0]
        return _unique(_name(first[j]) if j < len(first) else "" for j in range(width))
    top = _carried(rows[0], width)
    names = []
    for j in range(width):
        parts = [top[j]] if top[j] else []
        for r in rows[1:]:
            sub = _name(r[j]) if j < len(r) else ""
            if sub and not (tool == "surveymonkey" and sub == "response") and sub not in parts:
                parts.append(sub)
        names.append(" - ".join(parts))
    return _unique(names)


def read_export(*, data: bytes, filename: str, header_rows: int | None = None) -> ExportTable:
    """The file's header and rows (see the module docstring); ImportFailed for an unreadable file."""
    raw = open_rows(data=data, filename=filename)
    head = list(itertools.islice(raw, header_rows or 3))
    if not head:
        raise import_failed("The file is empty.")
    first = [_name(c) for c in head[0][1]]
    if header_rows:
        tool, count = "header-rows", header_rows
    elif len(head) >= 3 and any(_IMPORT_ID.match(c) for c in head[2][1]):
        tool, count = "qualtrics", 3
    elif {"respondent id", "collector id"} <= set(first):
        tool, count = "surveymonkey", 2
    else:
        tool, count = "plain", 1
    if len(head) < count:
        raise import_failed(f"The file has only {len(head)} row(s), fewer than its {count} header rows.")
    header = _header([cells for _, cells in head[:count]], tool if header_rows is None or count > 1 else "plain")
    if not any(not n.startswith("#") for n in header):
        raise import_failed("The first row must name the columns.", row=head[0][0])
    rows = list(table_records(itertools.chain(head[count:], raw), header))
    return ExportTable(header=header, rows=rows, tool=tool, header_rows=count)


def pivot_long(table: ExportTable, *, side_column: str, id_column: str, item_column: str, value_column: str,
               carried: Sequence[str]) -> ExportTable:
    """A long file (one row per respondent and item) as the wide one: one row per respondent.

    A respondent is a side and a respondent id. ``carried`` columns (segments, weight) are the respondent's:
    each of its rows must give the same value. Raises ImportFailed listing every problem (a missing column, a
    blank id or item, a respondent whose rows disagree on a carried column, an item given twice for one
    respondent).
    """
    needed = [side_column, id_column, item_column, value_column, *carried]
    missing = [c for c in dict.fromkeys(needed) if c not in table.header]
    if missing:
        raise import_failed(f"The long format needs the column(s) {', '.join(missing)}; the columns are: "
                            f"{', '.join(table.header)}.")
    problems: list[dict] = []
    # A respondent is a side and an id: files of the two sides joined together often both number from 1.
    people: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
    cell_rows: dict[tuple[int, str], int] = {}
    items: list[str] = []
    for number, record in table.rows:
        rid, item = record.get(id_column, "").strip(), _name(record.get(item_column, ""))
        if not rid or not item:
            problems.append({"row": number, "column": id_column if not rid else item_column,
                             "message": "blank: every row needs a respondent id and an item."})
            continue
        if item in (side_column, *carried):
            problems.append({"row": number, "column": item_column,
                             "message": f"the item '{item}' has the name of the side or a segment or weight column."})
            continue
        key = (" ".join(record.get(side_column, "").split()).lower(), rid)
        first, wide = people.setdefault(key, (number, {c: record.get(c, "") for c in (side_column, *carried)}))
        for c in carried:
            if record.get(c, "").strip() != wide[c].strip():
                problems.append({"row": number, "column": c, "message": f"respondent '{rid}' has '{wide[c]}' "
                                 f"here in row {first} and '{record.get(c, '')}' in this row."})
        if item in wide:
            problems.append({"row": number, "column": item_column, "message": f"respondent '{rid}' answers "
                             f"'{item}' twice (rows {cell_rows[(first, item)]} and {number})."})
            continue
        wide[item] = record.get(value_column, "")
        cell_rows[(first, item)] = number
        if item not in items:
            items.append(item)
    if problems:
        raise errors.ImportFailed(problems, detail="The long file has errors; nothing was analysed.")
    return ExportTable(header=[side_column, *carried, *items], rows=list(people.values()), tool=table.tool,
                       header_rows=table.header_rows, cell_rows=cell_rows)
