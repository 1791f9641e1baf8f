"""Reading a file's answer cells as scale levels: numbers, answer labels ("Strongly agree", 「とてもそう思う」), N/A.

Survey tools export an agreement item either as its number or as the label the respondent clicked. A cell
reads, in this order: blank or an N/A value → no answer; a label of the user's map (``--labels``); a whole
number on the scale ("4", "４"); a number followed by its label ("5 - Strongly agree"); a label of one of the
built-in wordings of the scale. Labels compare after Unicode NFKC (full-width letters and digits as half-width),
case folding, straight apostrophes and single spaces, so "STRONGLY  AGREE" and "Strongly agree" are one label.

Built-in wordings are whole scales, lowest level first (:data:`WORDINGS`), because the same words mean different
levels in different scales: 「そう思う」 is the top of 「そう思わない … そう思う」 but the fourth level under
「とてもそう思う」. A column's labels are read with the wordings that contain all of them (labels from no single
wording are not read at all); where those disagree, those that fit the most label columns of the file decide;
where they still disagree, the column is ambiguous and the user gives the levels with ``--labels``.
Nothing here reads the database.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

NEITHER = "neither agree nor disagree"
# Each built-in wording: (name, labels from the lowest level to the highest), by the number of scale points.
WORDINGS: dict[int, tuple[tuple[str, tuple[str, ...]], ...]] = {
    5: (
        ("en-agree", ("strongly disagree", "disagree", NEITHER, "agree", "strongly agree")),
        ("en-somewhat", ("strongly disagree", "somewhat disagree", NEITHER, "somewhat agree", "strongly agree")),
        ("ja-totemo", ("まったくそう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う",
                       "とてもそう思う")),
        ("ja-sou", ("そう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "そう思う")),
        ("ja-five", ("まったくそう思わない", "そう思わない", "どちらともいえない", "そう思う", "とてもそう思う")),
    ),
    7: (
        ("en-seven", ("strongly disagree", "disagree", "somewhat disagree", NEITHER, "somewhat agree", "agree",
                      "strongly agree")),
        ("ja-seven", ("まったくそう思わない", "そう思わない", "あまりそう思わない", "どちらともいえない",
                      "ややそう思う", "そう思う", "とてもそう思う")),
    ),
}
# Other common wordings of the same anchors (already normalised), read as the anchor.
SYNONYMS = {
    "neutral": NEITHER, "neither agree or disagree": NEITHER, "neither disagree nor agree": NEITHER,
    "slightly disagree": "somewhat disagree", "slightly agree": "somewhat agree",
    "disagree strongly": "strongly disagree", "agree strongly": "strongly agree",
    "全くそう思わない": "まったくそう思わない", "全然そう思わない": "まったくそう思わない",
    "ややそう思わない": "あまりそう思わない", "どちらとも言えない": "どちらともいえない",
    "どちらでもない": "どちらともいえない",
    "少しそう思う": "ややそう思う", "非常にそう思う": "とてもそう思う", "強くそう思う": "とてもそう思う",
}
# "5 - Strongly agree", "5: とてもそう思う", "5 (strongly agree)": the number decides.
_NUMBERED = re.compile(r"^(\d+)\s*[-–—:=.)(]\s*[^\d\s]")  # "4.5" is no "4" with a label
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def normalise(text: str) -> str:
    """A cell or label as it is compared: NFKC, case-folded, straight apostrophes, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").translate(_QUOTES).casefold().split())


class LabelsFileError(ValueError):
    """A ``--labels`` file that cannot be read as label → level."""


def load_labels(path: Path, scale: int, na_values: Iterable[str]) -> dict[str, int | None]:
    """A ``--labels`` file (YAML or JSON mapping, or a CSV of label,level rows) as normalised label → level.

    A level is a whole number on the scale; an N/A value ("na", or null/empty) makes the label mean no answer.
    """
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        elif suffix in (".csv", ".txt"):
            raw = _csv_pairs(text)
        else:
            raise LabelsFileError(f"{path.name}: use a .yaml, .yml, .json or .csv file.")
    except (json.JSONDecodeError, ValueError) as exc:
        if isinstance(exc, LabelsFileError):
            raise
        raise LabelsFileError(f"{path.name} is not valid {suffix.lstrip('.').upper()}: {exc}") from None
    except Exception as exc:  # yaml's errors: not valid YAML
        raise LabelsFileError(f"{path.name} is not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping) or not raw:
        raise LabelsFileError(f"{path.name} must map each answer label to its level (label: level).")
    na = {normalise(v) for v in na_values} | {""}
    out: dict[str, int | None] = {}
    for label, level in raw.items():
        key = normalise(str(label))
        if not key:
            raise LabelsFileError(f"{path.name}: an empty label.")
        if level is None or (isinstance(level, str) and normalise(level) in na):
            out[key] = None
            continue
        try:
            number = float(str(level).strip())
        except ValueError:
            number = math.nan
        if isinstance(level, bool) or not number.is_integer() or not 1 <= number <= scale:
            raise LabelsFileError(f"{path.name}: the level of '{label}' is '{level}', not a whole number from 1 to "
                                  f"{scale} or an N/A value.")
        out[key] = int(number)
    return out


def _csv_pairs(text: str) -> dict[str, str]:
    import csv
    import io

    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if rows and normalise(rows[0][0]) == "label":
        rows = rows[1:]  # a header row
    bad = next((n for n, r in enumerate(rows, start=1) if len(r) != 2), None)
    if bad is not None:
        raise LabelsFileError(f"line {bad} of the labels file: use two columns, label,level.")
    return {label: level for label, level in rows}


@dataclass
class ColumnReading:
    """How one column's cells read as levels: its labels' levels, or why it cannot be read."""

    levels: dict[str, int] = field(default_factory=dict)  # normalised label → level
    unknown: list[str] = field(default_factory=list)  # normalised labels no map and no wording knows
    ambiguous: dict[str, list[int]] = field(default_factory=dict)  # label → the levels wordings give it


@dataclass(frozen=True)
class AnswerReader:
    """Reads answer cells as levels of a ``scale``-point item (see the module docstring)."""

    scale: int
    na_values: frozenset[str]
    custom: Mapping[str, int | None] = field(default_factory=dict)  # normalised label → level (None: N/A)

    def plain(self, raw: str) -> float | str:
        """A cell without the wordings: a level, NaN (no answer), or its normalised text (a label to look up)."""
        text = normalise(raw)
        if not text or text in self.na_values:
            return math.nan
        if text in self.custom:
            level = self.custom[text]
            return math.nan if level is None else float(level)
        numbered = _NUMBERED.match(text)
        number_text = numbered.group(1) if numbered else text
        try:
            number = float(number_text)
        except ValueError:
            return SYNONYMS.get(text, text)
        if number.is_integer() and 1 <= number <= self.scale:
            return number
        return text  # a number off the scale: not an answer of it

    def columns(self, cells: Mapping[str, Iterable[str]]) -> dict[str, ColumnReading]:
        """Each column's reading from all its cells, the file's wordings deciding between ambiguous ones."""
        labels = {col: {v for raw in values if isinstance(v := self.plain(raw), str)} for col, values in cells.items()}
        wordings = WORDINGS.get(self.scale, ())
        fits = {col: [w for _, w in wordings if found <= set(w)] for col, found in labels.items() if found}
        fitted = {w: sum(w in f for f in fits.values()) for _, w in wordings}  # label columns each wording fits
        out = {}
        for col, found in labels.items():
            reading = ColumnReading()
            # Of the wordings that hold all its labels, those that fit the most label columns of the file. If
            # none holds them all, none is read: labels of two wordings (a 7-point "somewhat agree" among 5-point
            # ones) would be read at levels nobody chose.
            own = fits.get(col) or []
            best = max((fitted[w] for w in own), default=0)
            usable = [w for w in own if fitted[w] == best]
            for label in sorted(found):
                levels = sorted({w.index(label) + 1 for w in usable if label in w})
                if not levels:
                    reading.unknown.append(label)
                elif len(levels) == 1:
                    reading.levels[label] = levels[0]
                else:
                    reading.ambiguous[label] = levels
            out[col] = reading
        return out

    def read(self, raw: str, reading: ColumnReading) -> float | None:
        """A cell's level (NaN: no answer), or None when it is not an answer of the scale."""
        value = self.plain(raw)
        if isinstance(value, str):
            level = reading.levels.get(value)
            return None if level is None else float(level)
        return value
