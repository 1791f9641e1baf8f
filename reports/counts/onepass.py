"""Every count table of a wave from one pass over its responses.

The gap engine needs per-level answer counts, dimension-score tables, Cronbach
moments and per-account scores (:class:`reports.counts.tables.WaveCounts`).
Asking the database for each of them separately (:mod:`reports.counts.groupby`)
costs about sixty queries, several of them self-joins of the answers. Here the
responses are read once (:class:`reports.counts.pgcopy.CopyReader` on PostgreSQL,
:class:`reports.counts.rowread.RowReader` elsewhere) and every
table is accumulated from each batch. Memory is a couple of batches plus the
tables, whatever the size of the wave.

The tables equal those of the GROUP BY reader (``tests/gap/test_onepass.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from reports.counts.pgcopy import CopyReader
from reports.counts.rowread import RowReader
from reports.counts.tables import (
    PairMoments,
    ReleaseSpan,
    WaveCounts,
    account_sums_frame,
    accounts_from_sums,
    segment_column,
    table_segment_keys,
    touchpoint_items,
)
from reports.counts.tallies import DenseSum, SparseSum, weighted_columns
from surveys.models import ItemKind, ItemPair, Side, Wave

_ITEM_TABLE_LIMIT = 1 << 22  # item ids below this are looked up in a table; above, by binary search
_MISSING = -2  # not answered; −1 is N/A (answered "does not apply"); both are left out of every count


def one_pass_counts(wave: Wave, span: ReleaseSpan | None = None, reader_class=None) -> WaveCounts:
    """Every count table of the wave (published responses only; with ``span``, those of its releases) from one
    pass over its responses: a binary COPY on PostgreSQL, batches through the ORM elsewhere (or ``reader_class``)."""
    seg_keys = table_segment_keys(wave)
    seg_cols = [segment_column(k) for k in seg_keys]
    items = list(ItemPair.objects.filter(instrument_id=wave.instrument_id, retired_at__isnull=True)
                 .select_related("dimension").order_by("id"))
    ids = np.array([i.pk for i in items], dtype=np.int64)
    m = len(items)
    levels = max((i.scale_max + 1 for i in items), default=1)  # answers are 0 … scale max (NPS starts at 0)
    likert_dim = np.array([i.kind == ItemKind.LIKERT and i.dimension_id is not None for i in items], dtype=bool)
    outcome_pos = np.flatnonzero([i.kind != ItemKind.LIKERT for i in items])
    reverse = np.array([bool(i.reverse_keyed) for i in items], dtype=bool)
    flip = np.array([int(i.scale_points) + 1 for i in items], dtype=np.int64)
    dims = sorted({int(i.dimension_id) for i, ld in zip(items, likert_dim, strict=True) if ld})
    # Positions (item-id order) of each dimension's items; dimension 0 is the overall score over all of them.
    dim_pos = {d: np.flatnonzero(likert_dim & np.array([i.dimension_id == d for i in items], dtype=bool))
               for d in dims}
    # The overall score counts the core dimensions only (not an optional module set's: Dimension.module).
    overall_pos = np.flatnonzero(likert_dim & np.array([i.dimension_id is not None and not i.dimension.module
                                                        for i in items], dtype=bool))
    half = {d: -(-len(p) // 2) for d, p in dim_pos.items()}
    # Radix of a score key: (s, c) with 0 ≤ s ≤ Σ scale points and 0 ≤ c ≤ number of items.
    # Touchpoint scores (docs/methods.md §3.4): each touchpoint's asked agreement items, keys in sorted order.
    tp_units = touchpoint_items(items)
    tp_keys = list(tp_units)
    position_of = {i.pk: p for p, i in enumerate(items)}
    tp_pos = {key: np.array([position_of[i] for i in ids], dtype=np.int64) for key, ids in tp_units.items()}
    in_touchpoint = np.zeros(m, dtype=bool)
    for positions in tp_pos.values():
        in_touchpoint[positions] = True
    # every item some score sums (a dimension's, the overall or a touchpoint's)
    scored_pos = np.flatnonzero(likert_dim | in_touchpoint)
    s_radix = int(flip[scored_pos].sum()) + 1 if scored_pos.size else 1
    c_radix = int(scored_pos.size) + 1
    dim_index = {d: k for k, d in enumerate([0, *dims])}

    answers, responses = DenseSum(3), DenseSum(1)
    scores, overall, tp_scores = SparseSum(3), SparseSum(3), SparseSum(3)
    moments = {(side, d, complete): np.zeros((3 * len(p), 3 * len(p)))
               for d, p in dim_pos.items() for side in (Side.STAFF, Side.CUSTOMER) for complete in (True, False)}
    acct_dim, acct_item = DenseSum(2), DenseSum(2)  # keyed by the account's index in account_ids
    account_index: dict[int, int] = {}
    cell_of_account: list[int] = []  # per account index, the cell of its first response (its status is the cell's)
    item_key = np.arange(m, dtype=np.int64) * levels
    position = None  # item id → its column (−1: not ours), while the ids are small enough for a table
    if 0 < m and ids.max() < _ITEM_TABLE_LIMIT:
        position = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
        position[ids] = np.arange(m)

    # Tables are keyed by the reader's cell codes; the cells are named, and codes naming the same cell
    # merged, once the read is over. The overall score and the respondent counts ignore the account
    # status: they are kept per cell too, and summed over the statuses at the end.
    if reader_class is None:  # elsewhere the same rows through the ORM (reports.counts.rowread)
        reader_class = CopyReader if connection.vendor == "postgresql" else RowReader
    reader = reader_class(wave, seg_keys, span)
    for ch in reader:
        n = ch.cell.size
        cell, weight, account, staff = ch.cell, ch.weight, ch.account, ch.staff
        linked = (account >= 0) & ~staff
        acct = np.full(n, -1, dtype=np.int64)  # the account's index, for the customers linked to one
        inverse, uniq = pd.factorize(account[linked])
        first = np.full(uniq.size, n, dtype=np.int64)
        np.minimum.at(first, inverse, np.flatnonzero(linked))
        for a, i in zip(uniq.tolist(), first.tolist(), strict=True):
            if a not in account_index:
                account_index[a] = len(account_index)
                cell_of_account.append(int(cell[i]))
        acct[linked] = np.fromiter((account_index[a] for a in uniq.tolist()), dtype=np.int64,
                                   count=uniq.size)[inverse]

        # One row per response, one column per item; answers to items outside the instrument are ignored.
        if position is not None:
            pos = np.full(ch.item.size, -1, dtype=np.int64)
            inside = (ch.item >= 0) & (ch.item < position.size)
            pos[inside] = position[ch.item[inside]]
        elif m:
            pos = np.searchsorted(ids, ch.item)
            pos[(pos >= m) | (ids[np.minimum(pos, m - 1)] != ch.item)] = -1
        else:
            pos = np.full(ch.item.size, -1, dtype=np.int64)
        known = (pos >= 0) & (ch.value < levels)
        x = np.full((n, m), _MISSING, dtype=np.int16)
        x[ch.row[known], pos[known]] = ch.value[known]
        valid = x >= 0

        responses.add(cell, np.ones(n))

        # Per-level counts of every item (docs/methods.md §1.1), with SUM(weight) and SUM(weight²) (§9).
        answered = valid.ravel()
        keys = ((cell * (m * levels))[:, None] + item_key + x).ravel()[answered]
        w = np.repeat(weight, m)[answered]
        answers.add(keys, np.ones(keys.size), w, w * w)

        recoded = np.where(reverse, flip - x, x) * valid  # docs/methods.md §0; 0 where not answered

        def tally(dim_id: int, positions: np.ndarray, cell: np.ndarray, recoded=recoded, valid=valid,
                  weight=weight) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
            """Each scored respondent's (s, c) and the score-table key of their cell (docs/methods.md §3.1–3.2)."""
            s = recoded[:, positions].sum(axis=1)
            c = valid[:, positions].sum(axis=1)
            scored = np.flatnonzero(c > 0)
            key = ((cell[scored] * len(dim_index) + dim_index[dim_id]) * s_radix + s[scored]) * c_radix + c[scored]
            return s, c, weighted_columns(key, weight[scored])

        # Customer accounts (docs/methods.md §10): each contact's score (half rule applied), averaged per account.
        score_parts, acct_parts = [], []
        sides = ((Side.STAFF, np.flatnonzero(staff)), (Side.CUSTOMER, np.flatnonzero(~staff)))
        for d, positions in dim_pos.items():
            s, c, part = tally(d, positions, cell)
            score_parts.append(part)
            ok = np.flatnonzero(linked & (c >= half[d]))
            acct_parts.append((acct[ok] * len(dim_index) + dim_index[d], s[ok] / c[ok]))
            # Cronbach moments (docs/methods.md §1.2, §3.3): sums of products over respondents, pairwise and
            # listwise, all six from one product of [answered, score, score²] with itself.
            k = positions.size
            block = np.empty((n, 3 * k))
            block[:, :k] = valid[:, positions]
            block[:, k:2 * k] = recoded[:, positions]
            np.multiply(block[:, k:2 * k], block[:, k:2 * k], out=block[:, 2 * k:])
            complete = c == k
            for side, rows in sides:
                for listwise in (True, False):
                    part_rows = rows[complete[rows]] if listwise else rows
                    sub = block[part_rows]
                    moments[(side, d, listwise)] += sub.T @ sub
        if score_parts:
            scores.add(*(np.concatenate(cols) for cols in zip(*score_parts, strict=True)))
            keys, values = (np.concatenate(cols) for cols in zip(*acct_parts, strict=True))
            acct_dim.add(keys, np.ones(keys.size), values)
        if overall_pos.size:
            overall.add(*tally(0, overall_pos, cell)[2])
        for t, key in enumerate(tp_keys):
            s_t = recoded[:, tp_pos[key]].sum(axis=1)
            c_t = valid[:, tp_pos[key]].sum(axis=1)
            scored = np.flatnonzero(c_t > 0)
            tp_key = ((cell[scored] * len(tp_keys) + t) * s_radix + s_t[scored]) * c_radix + c_t[scored]
            tp_scores.add(*weighted_columns(tp_key, weight[scored]))
        rows_o, cols_o = np.nonzero(valid[:, outcome_pos] & linked[:, None])
        acct_item.add(acct[rows_o] * max(m, 1) + outcome_pos[cols_o], np.ones(rows_o.size),
                      x[rows_o, outcome_pos[cols_o]])

    named = reader.cells()
    cells: dict[tuple, int] = {}
    shorts: dict[tuple, int] = {}
    to_cell = np.array([cells.setdefault(key, len(cells)) for key in named], dtype=np.int64)
    to_short = np.array([shorts.setdefault(key[:-1], len(shorts)) for key in named], dtype=np.int64)
    account_ids = list(account_index)
    status_of = [named[c][-1] for c in cell_of_account]

    def unpack(table: SparseSum, keyed: dict[tuple, int], names: list[str], *radices: int,
               merge: np.ndarray | None = None) -> tuple[dict[str, list], list[np.ndarray], np.ndarray]:
        """Columns of a table: its key split into the cell's attributes and digits of the given radices."""
        rest = table.keys
        digits = []
        for radix in reversed(radices):
            rest, digit = np.divmod(rest, radix)
            digits.append(digit)
        sums = table.sums
        if merge is not None and rest.size:  # reader codes → cells (or shorts): sum the rows that become one
            code = merge[rest]
            key = code
            for digit, radix in zip(reversed(digits), radices, strict=True):
                key = key * radix + digit
            merged = SparseSum(len(sums))
            merged.add(key, *sums)
            return unpack(merged, keyed, names, *radices)
        by_code = [None] * len(keyed)
        for key, code in keyed.items():
            by_code[code] = key
        attrs = np.empty((len(by_code), len(names)), dtype=object)
        attrs[:] = by_code if by_code else np.empty((0, len(names)), dtype=object)
        columns = {name: attrs[rest, j].tolist() for j, name in enumerate(names)}
        return columns, list(reversed(digits)), sums

    long_names = ["side", *seg_cols, "account_status"]
    dim_ids = np.array([0, *dims], dtype=np.int64)

    def frame(order: list[str], columns: dict, sums: np.ndarray, **numeric) -> pd.DataFrame:
        data = {**columns, **numeric, "n": sums[0].astype(np.int64)}
        if len(sums) == 3:
            data.update(w=sums[1], w2=sums[2])
        return pd.DataFrame({name: data[name] for name in order})

    cols, (p, v), sums = unpack(answers, cells, long_names, m, levels, merge=to_cell)
    answer_frame = frame(["side", "item_id", "value", *seg_cols, "account_status", "n", "w", "w2"], cols, sums,
                         item_id=ids[p] if m else p, value=v)
    score_order = ["side", "dimension_id", "s", "c", *seg_cols, "account_status", "n", "w", "w2"]
    cols, (d, s_, c_), sums = unpack(scores, cells, long_names, len(dim_index), s_radix, c_radix, merge=to_cell)
    score_frame = frame(score_order, cols, sums, dimension_id=dim_ids[d], s=s_, c=c_)
    cols, (d, s_, c_), sums = unpack(overall, shorts, long_names[:-1], len(dim_index), s_radix, c_radix,
                                     merge=to_short)
    overall_frame = frame([c for c in score_order if c != "account_status"], cols, sums,
                          dimension_id=dim_ids[d], s=s_, c=c_)
    cols, (t_, s_, c_), sums = unpack(tp_scores, shorts, long_names[:-1], max(len(tp_keys), 1), s_radix, c_radix,
                                      merge=to_short)
    tp_frame = frame(["side", "touchpoint", "s", "c", *seg_cols, "n", "w", "w2"], cols, sums,
                     touchpoint=[tp_keys[int(t)] for t in t_], s=s_, c=c_)
    cols, _, sums = unpack(responses, shorts, long_names[:-1], merge=to_short)
    response_frame = frame(["side", *seg_cols, "n"], cols, sums)

    moment_dicts: dict = {}
    for (side, d, listwise), mo in moments.items():
        pid = ids[dim_pos[d]]
        k = pid.size
        vv, av, va = mo[:k, :k], mo[k:2 * k, :k], mo[:k, k:2 * k]
        a2v, va2, aa = mo[2 * k:, :k], mo[:k, 2 * k:], mo[k:2 * k, k:2 * k]
        moment_dicts[(side, d, listwise)] = {
            (int(pid[a]), int(pid[b])): PairMoments(
                int(vv[a, b]), float(av[a, b]), float(va[a, b]), float(a2v[a, b]), float(va2[a, b]), float(aa[a, b]))
            for a in range(k) for b in range(a, k) if vv[a, b] > 0
        }

    account_rows = []
    for key, (count, total) in zip(acct_dim.keys.tolist(), acct_dim.sums.T.tolist(), strict=True):
        a, d = divmod(key, len(dim_index))
        account_rows.append((account_ids[a], status_of[a], f"dim:{dim_ids[d]}", int(count), total))
    for key, (count, total) in zip(acct_item.keys.tolist(), acct_item.sums.T.tolist(), strict=True):
        a, p = divmod(key, max(m, 1))
        account_rows.append((account_ids[a], status_of[a], f"item:{int(ids[p])}", int(count), total))
    account_sums = account_sums_frame(account_rows)

    return WaveCounts(
        answers=answer_frame,
        scores=score_frame,
        overall_scores=overall_frame,
        responses=response_frame,
        moments=moment_dicts,
        accounts=accounts_from_sums(account_sums),
        touchpoint_scores=tp_frame,
        account_sums=account_sums,
    )
