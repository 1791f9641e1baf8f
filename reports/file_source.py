"""A file exported from another survey tool as a gap source: its rows counted into the tables a wave gives.

One row per respondent, a column naming the side, one column per matched item (the same column for the staff
and the customer wording), optionally segment columns and a customer weight column. The rows become the count
tables of :mod:`reports.counts.tables` — per-level answer counts and weight sums, dimension score counts, item
moments for alpha, each per segment cell — so :func:`reports.services.gap_analysis_of` treats a file exactly
like a wave: the same disclosure (blocks of at least k respondents per side, per item and dimension only with k
answers), statistics, families and classification. A file has no releases, response rates, outcome items or
accounts: the result has none either.

Segment values in a file are declared by whoever made it, as an import's are: they never lift a group over k
(docs/anonymity.md P5), so with the default channel no segment group is shown at all. ``verified_segments``
records that the person analysing the file vouches that its segment values come from a roster (a contact
list), not from the respondents; they then count as an invitation's do. Answers are read as levels by
:mod:`reports.file_labels`; a file's shape (header rows, long format) is :mod:`reports.file_formats`.
Nothing here reads the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reports.counts import ACCOUNT_COLUMNS, CHANNEL_KEY, PairMoments, WaveCounts, segment_column
from reports.file_formats import is_metadata
from reports.file_labels import AnswerReader, ColumnReading, normalise
from reports.sources import SIDES, GapSource
from surveys import disclosure, errors
from surveys.models import Channel, Dimension, ItemKind, ItemPair, Language, Side

STAFF_K_FLOOR = 3  # staff anonymity: no threshold below this, whatever a caller asks
NA_DEFAULT = ("na,n/a,dk,don't know,わからない,該当なし,-,not applicable,no opinion,prefer not to say,"
              "答えたくない,回答しない")  # answers that mean don't know / not applicable
NA_VALUES = frozenset(NA_DEFAULT.split(","))
# A file's answers are declared by whoever made the file, as an import's are (surveys.disclosure, P5) ...
CHANNEL = Channel.IMPORT.value
# ... unless the person analysing it vouches that its segment values come from a roster, as an invitation's do.
VOUCHED_CHANNEL = Channel.INVITATION.value
assert disclosure.is_verified(VOUCHED_CHANNEL) and not disclosure.is_verified(CHANNEL)
CHANNEL_COLUMN = segment_column(CHANNEL_KEY)
Rows = Iterable[tuple[int, Mapping[str, str]]]


@dataclass(frozen=True)
class FileLayout:
    """How to read a file: which column names the side and with which values, the items and how to score them,
    the segment columns of each side and the customers' weight column.

    Column names and values are compared in lower case (as :func:`surveys.imports.read_table` gives the
    header); ``dimensions`` are (name, item columns) pairs, each column one of ``items``; ``labels`` maps answer
    labels (normalised, :func:`reports.file_labels.normalise`) to levels, None for N/A.
    """

    items: tuple[str, ...]
    side_column: str = "side"
    staff_value: str = "staff"
    customer_value: str = "customer"
    scale: int = 5
    topbox: tuple[int, ...] = ()  # empty: the top two levels
    reverse: frozenset[str] = frozenset()
    dimensions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    na_values: frozenset[str] = NA_VALUES
    k_min: int = 5
    labels: Mapping[str, int | None] = field(default_factory=dict)
    staff_segments: tuple[str, ...] = ()
    customer_segments: tuple[str, ...] = ()
    verified_segments: bool = False
    weight_column: str | None = None  # customers' weights; staff are never weighted (docs/methods.md §9)
    levels: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Guards for callers other than the command, which checks its options with its own messages first.
        if self.k_min < STAFF_K_FLOOR:
            raise ValueError(f"k_min cannot be below {STAFF_K_FLOOR} (staff anonymity).")
        if self.scale not in (5, 7):
            raise ValueError("scale must be 5 or 7.")
        object.__setattr__(self, "levels", tuple(range(1, self.scale + 1)))
        if not set(self.topbox) <= set(self.levels):
            raise ValueError(f"top-box levels must lie within 1..{self.scale}.")
        if any(not members or not set(members) <= set(self.items) for _, members in self.dimensions):
            raise ValueError("each dimension needs item columns being analysed.")
        if set(self.items) & {self.side_column, self.weight_column, *self.segment_keys}:
            raise ValueError("an item column cannot also be the side, a segment or the weight column.")

    @property
    def segment_keys(self) -> tuple[str, ...]:
        """Every segment column, each once (a column can segment both sides)."""
        return tuple(dict.fromkeys((*self.staff_segments, *self.customer_segments)))

    def segments_of(self, side: str) -> tuple[str, ...]:
        return self.staff_segments if side == Side.STAFF else self.customer_segments

    def reader(self) -> AnswerReader:
        return AnswerReader(self.scale, frozenset(normalise(v) for v in self.na_values), self.labels)


def file_source(rows: Rows, layout: FileLayout, *, name: str) -> GapSource:
    """The gap source of a file's rows (``(row number, {column: cell})``, as ``read_table`` gives them).

    Raises ImportFailed listing every bad cell (a side that is neither value, an answer that is not a level,
    label or N/A value of the scale, a bad weight), or naming the side the file has no rows of: a file with
    problems is analysed not at all.
    """
    answers = _read_answers(list(rows), layout)
    items, dimensions, dimension_items = _instrument(layout)
    # The result's "wave" entry: only a name (the file's); nothing of a wave, organization or instrument.
    meta = {"id": None, "name": name, "slug": None, "status": None, "opens_on": None, "closes_on": None,
            "organization": None, "instrument": None}
    fields = {side: [{"key": key, "label_en": key, "label_ja": key, "choices": []}  # no choices: see _count_tables
                     for key in layout.segments_of(side)] for side in SIDES}
    return GapSource(
        counts=_count_tables(answers, layout, items, dimension_items),
        items=items,
        dimensions=dimensions,
        dimension_items=dimension_items,
        thresholds={side: layout.k_min for side in SIDES},
        fields=fields,
        meta={language: meta for language in (Language.EN, Language.JA)},
    )


def detect_items(header: Sequence[str], rows: Rows, reader: AnswerReader, *,
                 reserved: Mapping[str, str]) -> tuple[list[str], list[dict[str, str]]]:
    """The item columns of a file without ``--items``, and every other column with why it is not one.

    An item column is no identifier, time or e-mail column (:func:`reports.file_formats.is_metadata`), and
    every non-blank cell of it reads as a level or N/A, with at least two distinct levels. ``reserved`` maps
    the side, segment and weight columns to what they are.
    """
    rows = list(rows)
    skipped: list[dict[str, str]] = []
    candidates = []
    for col in header:
        if col in reserved:
            skipped.append({"column": col, "reason": f"the {reserved[col]} column"})
        elif is_metadata(col):
            skipped.append({"column": col, "reason": "an identifier, time, e-mail or survey-tool column"})
        else:
            candidates.append(col)
    readings = reader.columns({col: [r.get(col, "") for _, r in rows] for col in candidates})
    items = []
    for col in candidates:
        reason = _not_an_item(col, rows, reader, readings[col])
        if reason:
            skipped.append({"column": col, "reason": reason})
        else:
            items.append(col)
    order = {col: j for j, col in enumerate(header)}
    skipped.sort(key=lambda s: order[s["column"]])
    return items, skipped


def _not_an_item(col: str, rows: list[tuple[int, Mapping[str, str]]], reader: AnswerReader,
                 reading: ColumnReading) -> str | None:
    if reading.ambiguous:
        return _ambiguous(reading)
    levels = set()
    for number, record in rows:
        raw = record.get(col, "")
        value = reader.read(raw, reading)
        if value is None:
            return f"not an answer of the {reader.scale}-point scale: '{raw}' in row {number}"
        if not math.isnan(value):
            levels.add(int(value))
    if len(levels) < 2:
        return ("no answers" if not levels else
                f"fewer than 2 distinct levels (every answer is {levels.pop()}): not told from a constant")
    return None


def _ambiguous(reading: ColumnReading) -> str:
    told = ", ".join(f"'{label}' ({' or '.join(map(str, levels))})" for label, levels in reading.ambiguous.items())
    return f"labels whose level depends on the wording: {told}; give their levels with --labels"


@dataclass
class _Answers:
    """Each side's respondents: answers as given (respondents × items, NaN for N/A), segment cells, weights."""

    values: dict[str, np.ndarray]
    atoms: dict[str, list[tuple[str | None, ...]]]  # one value per segment key (None: not given / not the side's)
    weights: dict[str, np.ndarray]


def _read_answers(rows: list[tuple[int, Mapping[str, str]]], layout: FileLayout) -> _Answers:
    """Each side's respondents as they answered, or ImportFailed."""
    reader = layout.reader()
    readings = reader.columns({col: [r.get(col, "") for _, r in rows] for col in layout.items})
    problems = [{"row": 0, "column": col, "message": _ambiguous(readings[col])}
                for col in layout.items if readings[col].ambiguous]
    values: dict[str, list[list[float]]] = {side: [] for side in SIDES}
    atoms: dict[str, list[tuple[str | None, ...]]] = {side: [] for side in SIDES}
    weights: dict[str, list[float]] = {side: [] for side in SIDES}
    staff_v, cust_v = layout.staff_value, layout.customer_value
    keys = layout.segment_keys
    for number, record in rows:
        side_raw = (record.get(layout.side_column) or "").strip().lower()
        side = Side.STAFF if side_raw == staff_v else Side.CUSTOMER if side_raw == cust_v else None
        if side is None:
            problems.append({"row": number, "column": layout.side_column,
                             "message": f"'{side_raw}' is neither '{staff_v}' nor '{cust_v}'."})
            continue
        answered = []
        for col in layout.items:
            raw = (record.get(col) or "").strip()
            value = reader.read(raw, readings[col])
            if value is None:
                problems.append({"row": number, "column": col, "message": f"'{raw}' is not a whole number from 1 to "
                                 f"{layout.scale}, an answer label of the scale or an N/A value (--labels gives a "
                                 "label its level)."})
                continue
            answered.append(value)
        weight = _weight(record, number, layout, side, problems)
        if len(answered) == len(layout.items) and weight is not None:
            own = layout.segments_of(side)
            atoms[side].append(tuple((" ".join((record.get(k) or "").split()) or None) if k in own else None
                                     for k in keys))
            values[side].append(answered)
            weights[side].append(weight)
    if problems:
        raise errors.ImportFailed(problems, detail="The file has errors; nothing was analysed.")
    for side, value in ((Side.STAFF, staff_v), (Side.CUSTOMER, cust_v)):
        if not values[side]:
            message = (f"The file has no {side} rows (none whose '{layout.side_column}' is '{value}'): the gap "
                       "compares staff with customers, so a file needs both.")
            raise errors.ImportFailed([{"row": 0, "column": layout.side_column, "message": message}], detail=message)
    return _Answers(
        values={side: np.array(values[side], dtype=float).reshape(-1, len(layout.items)) for side in SIDES},
        atoms=atoms, weights={side: np.array(weights[side], dtype=float) for side in SIDES})


def _weight(record: Mapping[str, str], number: int, layout: FileLayout, side: str, problems: list) -> float | None:
    """A customer's weight (blank: 1, as the engine counts a customer without one, docs/methods.md §9); staff 1."""
    if layout.weight_column is None or side == Side.STAFF:
        return 1.0  # staff are never weighted: a staff row's weight cell is not read
    raw = (record.get(layout.weight_column) or "").strip()
    if not raw:
        return 1.0
    try:
        weight = float(normalise(raw))
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight) or weight <= 0:
        problems.append({"row": number, "column": layout.weight_column,
                         "message": f"'{raw}' is not a weight: a positive number."})
        return None
    return weight


def _instrument(layout: FileLayout) -> tuple[list[ItemPair], list[Dimension], dict[int, list[ItemPair]]]:
    """Unsaved items (pk = column number, from 1) and dimensions (pk from 1; 0 is the overall score)."""
    dimensions = [Dimension(pk=n, key=dim_name, order=n, name_en=dim_name, name_ja=dim_name)
                  for n, (dim_name, _) in enumerate(layout.dimensions, start=1)]
    # An item named by several dimensions is listed under the last one, as the command always did.
    dimension_of = {col: dim for dim, (_, members) in zip(dimensions, layout.dimensions, strict=True)
                    for col in members}
    topbox = list(layout.topbox) or list(layout.levels[-2:])
    items = [ItemPair(pk=n, key=col, order=n, kind=ItemKind.LIKERT, dimension=dimension_of.get(col),
                      staff_text_en=col, staff_text_ja=col, customer_text_en=col, customer_text_ja=col,
                      scale_points=layout.scale, reverse_keyed=col in layout.reverse, topbox_levels=topbox)
             for n, col in enumerate(layout.items, start=1)]
    dimension_items = {dim.pk: [i for i in items if i.key in members]
                       for dim, (_, members) in zip(dimensions, layout.dimensions, strict=True)}
    return items, dimensions, dimension_items


def _count_tables(answers: _Answers, layout: FileLayout, items: Sequence[ItemPair],
                  dimension_items: Mapping[int, Sequence[ItemPair]]) -> WaveCounts:
    """The tables :mod:`reports.counts.groupby` reads from a wave, counted from the file's answers per segment
    cell (each side's respondents with the same segment values), with the customers' weight sums.

    The segment fields carry no choices: the values a file holds are data, and listing one that is not
    released would tell that someone gave it.
    """
    position = {item.pk: j for j, item in enumerate(items)}
    in_a_dimension = {i.pk for members in dimension_items.values() for i in members}
    overall = [i for i in items if i.pk in in_a_dimension]
    channel = VOUCHED_CHANNEL if layout.verified_segments else CHANNEL
    seg_cols = [segment_column(key) for key in layout.segment_keys]

    responses, answer_rows, score_rows, overall_rows = [], [], [], []
    for side in SIDES:
        x_all, w_all = answers.values[side], answers.weights[side]
        recoded_all = _recode(x_all, items, layout.scale)
        cells: dict[tuple[str | None, ...], list[int]] = {}
        for n, atom in enumerate(answers.atoms[side]):
            cells.setdefault(atom, []).append(n)
        for atom, members in cells.items():
            x, w, recoded = x_all[members], w_all[members], recoded_all[members]
            responses.append((side, *atom, channel, len(members)))
            for item in items:  # as answered: the engine reverses a reverse-keyed item's counts itself
                column = x[:, position[item.pk]]
                for value in np.unique(column[~np.isnan(column)]).astype(np.int64):
                    at = column == value
                    answer_rows.append((side, item.pk, int(value), *atom, channel, None, int(at.sum()),
                                        float(w[at].sum()), float((w[at] ** 2).sum())))
            for dim_id, dim_members in dimension_items.items():
                score_rows += [(side, dim_id, sc, c, *atom, channel, None, n, sw, sw2) for sc, c, n, sw, sw2
                               in _score_counts(recoded[:, [position[i.pk] for i in dim_members]], w)]
            if overall:
                overall_rows += [(side, 0, sc, c, *atom, channel, n, sw, sw2) for sc, c, n, sw, sw2
                                 in _score_counts(recoded[:, [position[i.pk] for i in overall]], w)]
    # Alpha is the whole side's (docs/anonymity.md, per unit): one set of moments per side, whatever the cells.
    recoded = {side: _recode(answers.values[side], items, layout.scale) for side in SIDES}
    moments = {(side, dim_id, complete): _moments(recoded[side], [position[i.pk] for i in members],
                                                  [i.pk for i in members], complete_only=complete)
               for dim_id, members in dimension_items.items() for side in SIDES for complete in (True, False)}
    segs = [*seg_cols, CHANNEL_COLUMN]
    return WaveCounts(
        answers=pd.DataFrame.from_records(answer_rows, columns=["side", "item_id", "value", *segs,
                                                                "account_status", "n", "w", "w2"]),
        scores=pd.DataFrame.from_records(score_rows, columns=["side", "dimension_id", "s", "c", *segs,
                                                              "account_status", "n", "w", "w2"]),
        overall_scores=pd.DataFrame.from_records(overall_rows, columns=["side", "dimension_id", "s", "c", *segs,
                                                                        "n", "w", "w2"]),
        responses=pd.DataFrame.from_records(responses, columns=["side", *segs, "n"]),
        moments=moments,
        accounts=pd.DataFrame(columns=ACCOUNT_COLUMNS),
    )


def _recode(x: np.ndarray, items: Sequence[ItemPair], scale: int) -> np.ndarray:
    """x' = (v_1 + v_k) − x for reverse-keyed items (docs/methods.md §0), as the tables of scores hold them."""
    out = x.copy()
    for j, item in enumerate(items):
        if item.reverse_keyed:
            out[:, j] = scale + 1 - out[:, j]
    return out


def _score_counts(x: np.ndarray, w: np.ndarray) -> list[tuple[int, int, int, float, float]]:
    """(sum of answers s, answered items c, respondents n, Σw, Σw²) over respondents who answered any item of
    ``x`` (``w``: their weights)."""
    answered = (~np.isnan(x)).sum(axis=1)
    sums = np.nansum(x, axis=1).astype(np.int64)
    keep = answered > 0
    if not keep.any():
        return []
    pairs, inverse = np.unique(np.stack([sums[keep], answered[keep]], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = np.bincount(inverse, minlength=len(pairs))
    sw = np.bincount(inverse, weights=w[keep], minlength=len(pairs))
    sw2 = np.bincount(inverse, weights=w[keep] ** 2, minlength=len(pairs))
    return [(int(s), int(c), int(k), float(a), float(b)) for (s, c), k, a, b in zip(pairs, n, sw, sw2, strict=True)]


def _moments(x: np.ndarray, columns: list[int], ids: list[int], *, complete_only: bool,
             ) -> dict[tuple[int, int], PairMoments]:
    """Cross-product sums of each item pair (i ≤ j by id) over the respondents who answered both — or, with
    ``complete_only``, every item of the dimension (docs/methods.md §1.2, §3.3); pairs nobody answered: none."""
    sub = x[:, columns]
    answered = ~np.isnan(sub)
    complete = answered.all(axis=1)
    out = {}
    order = sorted(range(len(ids)), key=lambda k: ids[k])
    for a_pos, a in enumerate(order):
        for b in order[a_pos:]:
            both = complete if complete_only else answered[:, a] & answered[:, b]
            n = int(both.sum())
            if n == 0:
                continue
            xa, xb = sub[both, a].astype(np.int64), sub[both, b].astype(np.int64)
            out[(ids[a], ids[b])] = PairMoments(n, float(xa.sum()), float(xb.sum()), float((xa * xa).sum()),
                                                float((xb * xb).sum()), float((xa * xb).sum()))
    return out
