"""A file exported from another survey tool as a gap source: its rows counted into the tables a wave gives.

One row per respondent, a column naming the side, one column per matched item (the same column for the staff
and the customer wording). The rows become the count tables of :mod:`reports.counts.tables` — per-level
answer counts, dimension score counts, item moments for alpha — so :func:`reports.services.gap_analysis_of`
treats a file exactly like a wave: the same disclosure (each side is one block, shown only with at least k
respondents, and per item and dimension only with k answers), statistics, families and classification. A file
has no releases, response rates, outcome items, accounts or segment fields: the result has none either.
Nothing here reads the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reports.counts import ACCOUNT_COLUMNS, CHANNEL_KEY, PairMoments, WaveCounts, segment_column
from reports.sources import SIDES, GapSource
from surveys import errors
from surveys.models import Channel, Dimension, ItemKind, ItemPair, Language, Side

STAFF_K_FLOOR = 3  # staff anonymity: no threshold below this, whatever a caller asks
NA_DEFAULT = "na,n/a,dk,don't know,わからない,該当なし,-"  # answers that mean don't know / not applicable
NA_VALUES = frozenset(NA_DEFAULT.split(","))
# A file's answers are declared by whoever made the file, as an import's are (surveys.disclosure, P5).
CHANNEL = Channel.IMPORT.value
CHANNEL_COLUMN = segment_column(CHANNEL_KEY)


@dataclass(frozen=True)
class FileLayout:
    """How to read a file: which column names the side and with which values, the items and how to score them.

    Column names and values are compared in lower case (as :func:`surveys.imports.read_table` gives the
    header); ``dimensions`` are (name, item columns) pairs, each column one of ``items``.
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


def file_source(rows: Iterable[tuple[int, Mapping[str, str]]], layout: FileLayout, *, name: str) -> GapSource:
    """The gap source of a file's rows (``(row number, {column: cell})``, as ``read_table`` gives them).

    Raises ImportFailed listing every bad cell (a side that is neither value, an answer that is not a whole
    number on the scale): a file with problems is analysed not at all.
    """
    answers = _read_answers(rows, layout)
    items, dimensions, dimension_items = _instrument(layout)
    # The result's "wave" entry: only a name (the file's); nothing of a wave, organization or instrument.
    meta = {"id": None, "name": name, "slug": None, "status": None, "opens_on": None, "closes_on": None,
            "organization": None, "instrument": None}
    return GapSource(
        counts=_count_tables(answers, layout, items, dimension_items),
        items=items,
        dimensions=dimensions,
        dimension_items=dimension_items,
        thresholds={side: layout.k_min for side in SIDES},
        fields={side: [] for side in SIDES},
        meta={language: meta for language in (Language.EN, Language.JA)},
    )


def _read_answers(rows: Iterable[tuple[int, Mapping[str, str]]], layout: FileLayout) -> dict[str, np.ndarray]:
    """Each side's answers as it gave them (respondents × items, NaN for N/A), or ImportFailed."""
    values: dict[str, list[list[float]]] = {side: [] for side in SIDES}
    problems = []
    staff_v, cust_v = layout.staff_value, layout.customer_value
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
            if not raw or raw.lower() in layout.na_values:  # a blank cell is no answer, whatever the N/A values
                answered.append(math.nan)
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not value.is_integer() or not 1 <= value <= layout.scale:
                problems.append({"row": number, "column": col,
                                 "message": f"'{raw}' is not a whole number from 1 to {layout.scale}."})
                continue
            answered.append(value)
        if len(answered) == len(layout.items):
            values[side].append(answered)
    if problems:
        raise errors.ImportFailed(problems, detail="The file has errors; nothing was analysed.")
    return {side: np.array(values[side], dtype=float).reshape(-1, len(layout.items)) for side in SIDES}


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


def _count_tables(answers: Mapping[str, np.ndarray], layout: FileLayout, items: Sequence[ItemPair],
                  dimension_items: Mapping[int, Sequence[ItemPair]]) -> WaveCounts:
    """The tables :mod:`reports.counts.groupby` reads from a wave, counted from the file's answers."""
    position = {item.pk: j for j, item in enumerate(items)}
    recoded = {side: _recode(x, items, layout.scale) for side, x in answers.items()}
    in_a_dimension = {i.pk for members in dimension_items.values() for i in members}
    overall = [i for i in items if i.pk in in_a_dimension]

    responses = [(side, CHANNEL, len(x)) for side, x in answers.items() if len(x)]
    answer_rows = []
    for side, x in answers.items():  # as answered: the engine reverses a reverse-keyed item's counts itself
        for item in items:
            column = x[:, position[item.pk]]
            values, counts = np.unique(column[~np.isnan(column)].astype(np.int64), return_counts=True)
            answer_rows += [(side, item.pk, int(v), CHANNEL, None, int(n), float(n), float(n))
                            for v, n in zip(values, counts, strict=True)]
    score_rows, overall_rows = [], []
    for side, x in recoded.items():
        for dim_id, members in dimension_items.items():
            score_rows += [(side, dim_id, s, c, CHANNEL, None, n, float(n), float(n))
                           for s, c, n in _score_counts(x[:, [position[i.pk] for i in members]])]
        if overall:
            overall_rows += [(side, 0, s, c, CHANNEL, n, float(n), float(n))
                             for s, c, n in _score_counts(x[:, [position[i.pk] for i in overall]])]
    moments = {(side, dim_id, complete): _moments(recoded[side], [position[i.pk] for i in members],
                                                  [i.pk for i in members], complete_only=complete)
               for dim_id, members in dimension_items.items() for side in SIDES for complete in (True, False)}
    return WaveCounts(
        answers=pd.DataFrame.from_records(answer_rows, columns=["side", "item_id", "value", CHANNEL_COLUMN,
                                                                "account_status", "n", "w", "w2"]),
        scores=pd.DataFrame.from_records(score_rows, columns=["side", "dimension_id", "s", "c", CHANNEL_COLUMN,
                                                              "account_status", "n", "w", "w2"]),
        overall_scores=pd.DataFrame.from_records(overall_rows, columns=["side", "dimension_id", "s", "c",
                                                                        CHANNEL_COLUMN, "n", "w", "w2"]),
        responses=pd.DataFrame.from_records(responses, columns=["side", CHANNEL_COLUMN, "n"]),
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


def _score_counts(x: np.ndarray) -> list[tuple[int, int, int]]:
    """(sum of answers s, answered items c, respondents n) over respondents who answered any item of ``x``."""
    answered = (~np.isnan(x)).sum(axis=1)
    sums = np.nansum(x, axis=1).astype(np.int64)
    keep = answered > 0
    if not keep.any():
        return []
    pairs, counts = np.unique(np.stack([sums[keep], answered[keep]], axis=1), axis=0, return_counts=True)
    return [(int(s), int(c), int(n)) for (s, c), n in zip(pairs, counts, strict=True)]


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
