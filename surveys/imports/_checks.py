"""What the three importers share: the problems found by row, the cell checks that report them, the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from surveys import disclosure, errors, services
from surveys.imports.tables import EXTRA_CELLS
from surveys.models import Wave

Progress = Callable[[int], None] | None

LANGUAGE_ALIASES = {
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


class Problems:
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


def raise_if_any(problems: Problems, skip_bad_rows: bool) -> None:
    if problems and not skip_bad_rows:
        found = problems.all()
        rows = len(problems.by_row)
        raise errors.ImportFailed(
            errors=found,
            detail=f"{len(found)} problem(s) in {rows} row(s); nothing was imported.",
        )


def check_header(header: list[str], *, known: set[str], required: Iterable[str] = ()) -> list[str]:
    missing = [name for name in required if name not in header]
    if missing:
        raise errors.ImportFailed(
            errors=[{"row": 1, "column": name, "message": f"The required column '{name}' is missing."}
                    for name in missing],
            detail="Required column(s) missing: " + ", ".join(missing) + ".",
        )
    return [name for name in header if name and name not in known]


def check_extra(problems: Problems, number: int, record: dict[str, str]) -> None:
    if EXTRA_CELLS in record:
        problems.add(number, "", f"This row has {record[EXTRA_CELLS]} more cell(s) than the header row "
                                 "(a stray delimiter or a missing quote?).")


def check_length(problems: Problems, number: int, column: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.add(number, column, f"At most {limit} characters, got {len(value)}.")


def language(problems: Problems, number: int, value: str, wave: Wave) -> str | None:
    if not value:
        return wave.default_language
    code = LANGUAGE_ALIASES.get(value.strip().lower())
    if code is None:
        problems.add(number, "language", f"Must be 'ja' or 'en', got '{value}'.")
        return None
    if code not in wave.languages:
        problems.add(number, "language", f"This wave is offered in {', '.join(wave.languages)} only, got '{value}'.")
        return None
    return code


def segments(problems: Problems, number: int, record: dict[str, str], wave: Wave, side: str) -> dict:
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


def parse_date(problems: Problems, number: int, column: str, value: str) -> dt.date | None:
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


def done(progress: Progress, n: int = 1) -> None:
    if progress is not None:
        progress(n)


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
