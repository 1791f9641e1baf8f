"""A wave's count tables as they may be released: the verdicts of :mod:`surveys.disclosure` applied.

The gap engine never sees raw segment values. Before any statistic is
computed, each side's rows get their block's released values (generalised
values become :data:`surveys.disclosure.GENERALISED`, which no filter
matches), rows of unreleased blocks are dropped, and per unit (item, dimension
score, overall score) the blocks with hidden answers are dropped and counted
as withheld. A filter, a heatmap group or "everyone" then selects whole blocks
by construction (docs/anonymity.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reports.counts import CHANNEL_KEY, WaveCounts, segment_column
from surveys import disclosure
from surveys.models import Side

CHANNEL_COLUMN = segment_column(CHANNEL_KEY)
BLOCK = "block__"  # the block index of each row while the tables are built


@dataclass
class DisclosedTables:
    """The released tables of one wave (same columns as :class:`reports.counts.WaveCounts`' tables)."""

    answers: pd.DataFrame
    scores: pd.DataFrame
    overall_scores: pd.DataFrame
    responses: pd.DataFrame
    plans: dict[str, disclosure.BlockPlan]
    # Answers withheld per unit: side, unit ("item:<id>", "dim:<id>"), seg__… (released values), n.
    withheld: pd.DataFrame
    released_values: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # side → field → values
    # Touchpoint scores, released exactly as dimension scores are (withheld as "tp:<key>").
    touchpoint_scores: pd.DataFrame = field(default_factory=pd.DataFrame)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return disclosure.NOT_GIVEN
    return str(value)


def disclose(counts: WaveCounts, *, fields: Mapping[str, list[str]], k: Mapping[str, int],
             dim_items: Mapping[int, list[int]], tp_items: Mapping[str, list[int]] | None = None) -> DisclosedTables:
    """Apply the block plan and the per-unit verdicts of each side to the wave's count tables.

    ``fields``: the segment field keys of each side; ``k``: each side's threshold;
    ``dim_items``: the Likert item ids of each dimension (0: the overall score); ``tp_items``: those of
    each touchpoint (key), whose scores are score units like a dimension's.
    """
    tp_items = dict(tp_items or {})
    seg_cols = [c for c in counts.responses.columns if c.startswith("seg__")]
    plans: dict[str, disclosure.BlockPlan] = {}
    blocks_of: dict[str, dict[disclosure.Atom, int]] = {}  # side → atom → block index
    block_values: dict[str, list[disclosure.Atom]] = {}
    for side in (Side.STAFF, Side.CUSTOMER):
        keys = list(fields[side])
        rows = counts.responses[counts.responses["side"] == side] if len(counts.responses) else counts.responses
        atoms: dict[disclosure.Atom, disclosure.AtomCount] = {}
        if len(rows):
            columns = [rows[segment_column(f)].tolist() if segment_column(f) in rows else
                       [None] * len(rows) for f in keys]
            channels = rows[CHANNEL_COLUMN].tolist() if CHANNEL_COLUMN in rows else [None] * len(rows)
            for values, channel, n in zip(zip(*columns, strict=True) if keys else [()] * len(rows), channels,
                                          rows["n"].tolist(), strict=True):
                atom = tuple(_text(v) for v in values)
                n = int(n)
                verified = n if disclosure.is_verified(_text(channel)) else 0
                atoms[atom] = atoms.get(atom, disclosure.AtomCount(0, 0)) + disclosure.AtomCount(verified, n)
        plan = disclosure.plan_blocks(atoms, keys, int(k[side]))
        plans[side] = plan
        ordered = sorted(plan.sizes)
        block_values[side] = ordered
        index = {b: i for i, b in enumerate(ordered)}
        blocks_of[side] = {atom: index[b] for atom, b in plan.block_of_atom.items()}

    def released(frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of released blocks with their block's values; other fields' and the channel blanked."""
        if frame.empty:
            return frame.assign(**{BLOCK: pd.Series(dtype=np.int64)})
        size = len(frame)
        sides = frame["side"].to_numpy(dtype=object)
        block = np.full(size, -1, dtype=np.int64)
        shown = {c: np.full(size, None, dtype=object) for c in seg_cols}
        for side in (Side.STAFF, Side.CUSTOMER):
            at = np.flatnonzero(sides == side)
            if not at.size:
                continue
            keys = list(fields[side])
            cols = [segment_column(f) for f in keys]
            raw = [frame[c].to_numpy(dtype=object)[at] if c in frame else np.full(at.size, None, dtype=object)
                   for c in cols]
            mapping = blocks_of[side]
            # Each distinct cell is looked up once: a table has many rows per cell (items, levels, scores).
            cells, distinct = pd.factorize(pd.Series(list(zip(*raw, strict=True)) if keys else [()] * at.size,
                                                     dtype=object))
            per_cell = np.array([mapping.get(tuple(_text(v) for v in cell), -1) for cell in distinct] or [-1],
                                dtype=np.int64)
            block[at] = per_cell[cells]
            inside = at[block[at] >= 0]
            values = block_values[side]
            for j, c in enumerate(cols):
                per_block = np.array([b[j] or None for b in values] or [None], dtype=object)  # "" (not given) → None
                shown[c][inside] = per_block[block[inside]]
        keep = block >= 0
        data = {c: (shown[c] if c in shown else frame[c].to_numpy())[keep] for c in frame.columns}
        data[BLOCK] = block[keep]
        return pd.DataFrame(data)

    def scored_only(frame: pd.DataFrame, unit_col: str = "dimension_id",
                    unit_items: Mapping = dim_items) -> pd.DataFrame:
        """Respondents with a score (the half rule, docs/methods.md §3.2): the others are in no score number."""
        if frame.empty:
            return frame
        halves = {d: math.ceil(len(items) / 2) or 1 for d, items in unit_items.items()}
        half = frame[unit_col].map(halves).fillna(1)
        return frame[frame["c"] >= half]

    responses = released(counts.responses)
    answers = released(counts.answers)
    scores = released(scored_only(counts.scores))
    overall = released(scored_only(counts.overall_scores))
    tp_frame = counts.touchpoint_scores
    touchpoints = (released(scored_only(tp_frame, "touchpoint", tp_items)) if len(tp_frame)
                   else pd.DataFrame(columns=["side", "touchpoint", "s", "c", *seg_cols, "n", "w", "w2", BLOCK]))
    # Touchpoint keys as integer units while the verdicts are taken (keep_units tests integers).
    tp_keys = sorted(tp_items)
    tp_code = {key: code for code, key in enumerate(tp_keys)}
    touchpoints = touchpoints[touchpoints["touchpoint"].isin(tp_code)] if len(touchpoints) else touchpoints
    touchpoints = touchpoints.assign(tp_unit=touchpoints["touchpoint"].map(tp_code).astype(np.int64)
                                     if len(touchpoints) else pd.Series(dtype=np.int64))

    withheld: list[pd.DataFrame] = []

    def keep_units(frame: pd.DataFrame, unit_col: str, unit_prefix: str, allowed: dict[tuple[str, int], set[int]],
                   unit_name=str) -> pd.DataFrame:
        """Drop the rows of (side, unit, block) not allowed; record their respondents as withheld."""
        if frame.empty:
            return frame
        # One integer per (side, unit, block), then a vectorised membership test.
        width = int(frame[BLOCK].max()) + 2
        units = frame[unit_col].to_numpy(dtype=np.int64)
        span = max(int(units.max()), max((u for _, u in allowed), default=0)) + 1
        code = ((frame["side"].to_numpy(dtype=object) == Side.STAFF).astype(np.int64) * span
                + units) * width + frame[BLOCK].to_numpy(dtype=np.int64)
        wanted = np.array([(int(s == Side.STAFF) * span + u) * width + b
                           for (s, u), blocks in allowed.items() for b in blocks], dtype=np.int64)
        ok = np.isin(code, wanted)
        hidden = frame[~ok]
        if len(hidden):
            seg = [c for c in seg_cols if c in hidden.columns]
            w = hidden.groupby(["side", unit_col, *seg], dropna=False)["n"].sum().reset_index()
            w["unit"] = [f"{unit_prefix}{unit_name(int(u))}" for u in w[unit_col]]
            withheld.append(w.drop(columns=[unit_col]))
        return frame[ok]

    # Items: a block with fewer than k answers to an item gives none of them.
    item_allowed: dict[tuple[str, int], set[int]] = {}
    if len(answers):
        per = answers.groupby(["side", "item_id", BLOCK])["n"].sum()
        for (side, item, block), n in per.items():
            if n >= int(k[side]):
                item_allowed.setdefault((side, int(item)), set()).add(int(block))
    answers = keep_units(answers, "item_id", "item:", item_allowed)

    # Dimension and overall scores: k scored respondents in the block, and every item of it released there.
    def score_allowed(frame: pd.DataFrame, unit_col: str = "dimension_id",
                      items_of=lambda unit: dim_items.get(unit, [])) -> dict[tuple[str, int], set[int]]:
        out: dict[tuple[str, int], set[int]] = {}
        if frame.empty:
            return out
        for (side, dim), rows in frame.groupby(["side", unit_col], sort=False):
            items = items_of(int(dim))
            scored = rows.groupby(BLOCK)["n"].sum()
            block_scored = {b: int(n) for b, n in scored.items()}
            item_blocks = [frozenset(item_allowed.get((side, i), set())) for i in items]
            out[(side, int(dim))] = set(disclosure.released_score_blocks(block_scored, item_blocks, int(k[side])))
        return out

    scores = keep_units(scores, "dimension_id", "dim:", score_allowed(scores))
    overall = keep_units(overall, "dimension_id", "dim:", score_allowed(overall))
    # Touchpoints exactly as dimensions: k scored respondents in the block and every item of it released there.
    touchpoints = keep_units(touchpoints, "tp_unit", "tp:",
                             score_allowed(touchpoints, "tp_unit", lambda unit: tp_items[tp_keys[unit]]),
                             unit_name=lambda unit: tp_keys[unit]).drop(columns=["tp_unit"])

    withheld_frame = (pd.concat(withheld, ignore_index=True) if withheld
                      else pd.DataFrame(columns=["side", *seg_cols, "n", "unit"]))
    released_values = {
        side: {f: {v for b in block_values[side] for j, v in enumerate(b) if fields[side][j] == f
                   and v not in (disclosure.GENERALISED, disclosure.NOT_GIVEN)} for f in fields[side]}
        for side in (Side.STAFF, Side.CUSTOMER)
    }
    drop = [BLOCK]
    return DisclosedTables(
        answers=answers.drop(columns=drop), scores=scores.drop(columns=drop),
        overall_scores=overall.drop(columns=drop), responses=responses.drop(columns=drop), plans=plans,
        withheld=withheld_frame, released_values=released_values, touchpoint_scores=touchpoints.drop(columns=drop),
    )
