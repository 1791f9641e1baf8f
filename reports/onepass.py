"""Every count table of a wave from one pass over its responses.

The gap engine needs per-level answer counts, dimension-score tables,
Cronbach moments and per-account scores (:class:`reports.selectors.WaveCounts`).
Asking the database for each of them separately costs about sixty queries,
several of them self-joins of the answers — a hundred times a bare
``GROUP BY`` over the same answers on a large wave. This module reads each
response once instead, as one row — its side, segment values, weight and
account, and its answers packed into one ``bytea`` kept by triggers
(:class:`reports.models.AnswerVector`) — in chunks through a server-side
cursor, and accumulates every table from the chunk in numpy. Memory is a
chunk plus the tables, whatever the size of the wave.

Without the packed vectors (SQLite, where there are no triggers), the answers
are read as rows and grouped by response in Python: the same accumulation,
meant for development-sized waves.

The tables are equal to those of :func:`reports.selectors.wave_counts_by_queries`
(``tests/gap/test_onepass.py`` checks it on both databases).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from surveys.models import Answer, ItemKind, ItemPair, Side, SurveyResponse, Wave

from . import selectors

CHUNK = 10_000  # responses per fetch: larger chunks are no faster and cost memory (bench/NOTES.md)
_PACKED = np.dtype([("item", ">i4"), ("value", ">i2")])  # int4send(item_id) || int2send(value), −1 = N/A
_MISSING = -2  # not answered; −1 is N/A (answered "does not apply"); both are left out of every count


@dataclass
class _Chunk:
    """Up to CHUNK responses: their attributes, and their answers as (row, item id, value) arrays."""

    cells: list  # per response, a hashable key of its cell: (side, segment values…, account status)
    decode: object  # cell key → that tuple
    staff: np.ndarray
    status: list  # account status per response
    weight: np.ndarray  # 1.0 where the response has none
    account: np.ndarray  # −1 where the response has none
    row: np.ndarray
    item: np.ndarray
    value: np.ndarray


def _attribute_sql(wave: Wave, seg_keys: list[str]) -> tuple[str, tuple]:
    """The response attributes, with the segment values extracted exactly as the count queries do."""
    seg = {selectors._seg_alias(k): selectors.KeyTextTransform(k, "segments") for k in seg_keys}
    qs = (
        SurveyResponse.objects.filter(wave=wave)
        .annotate(**seg)
        .values_list("id", "side", *seg.keys(), "weight", "customer_account_id", "customer_account__status")
        .order_by()
    )
    return selectors._compile(qs)


def _chunk_from_columns(columns: list[list], n_seg: int, row: np.ndarray, item: np.ndarray,
                        value: np.ndarray) -> _Chunk:
    weights = np.array([1.0 if w is None else w for w in columns[2 + n_seg]], dtype=np.float64)
    accounts = np.array([-1 if a is None else a for a in columns[3 + n_seg]], dtype=np.int64)
    sides, statuses = columns[1], columns[4 + n_seg]
    return _Chunk(cells=list(zip(sides, *columns[2:2 + n_seg], statuses, strict=True)), decode=tuple,
                  staff=np.array([side == Side.STAFF for side in sides], dtype=bool), status=statuses,
                  weight=weights, account=accounts, row=row, item=item, value=value)


def packed_sql(wave: Wave, seg_keys: list[str]) -> tuple[str, tuple]:
    """The one query of a PostgreSQL read: a row per response, its cell as JSON text and its packed answers."""
    from reports.models import AnswerVector
    from surveys.models import CustomerAccount

    segs = "".join(", r.segments ->> %s" for _ in seg_keys)
    sql = (f"SELECT jsonb_build_array(r.side{segs}, ca.status)::text, r.side = %s, "
           f"COALESCE(r.weight, 1.0), COALESCE(r.customer_account_id, -1), ca.status, v.packed "
           f"FROM {SurveyResponse._meta.db_table} r "
           f"LEFT JOIN {CustomerAccount._meta.db_table} ca ON ca.id = r.customer_account_id "
           f"LEFT JOIN {AnswerVector._meta.db_table} v ON v.response_id = r.id AND v.wave_id = %s "
           f"WHERE r.wave_id = %s")
    return sql, (*seg_keys, Side.STAFF, wave.pk, wave.pk)


def _packed_chunks(wave: Wave, seg_keys: list[str]) -> Iterator[_Chunk]:
    """PostgreSQL: one row per response with its packed answers, read through a server-side cursor."""
    sql, params = packed_sql(wave, seg_keys)
    # Inside a transaction the server-side cursor streams; in autocommit Django declares it WITH HOLD,
    # which makes PostgreSQL compute and store the whole result before the first row arrives.
    # The responses' side of the join is hashed: give it the memory not to spill at a million rows.
    with transaction.atomic():
        with connection.cursor() as plain:
            plain.execute(f"SET LOCAL work_mem = '{settings.KAGAMI_GAP_WORK_MEM}'")  # validated in settings
        yield from _stream(sql, params)


def _stream(sql: str, params: tuple) -> Iterator[_Chunk]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            cells, staff, weight, account, status, packed = (list(c) for c in zip(*rows, strict=True))
            packs = [b"" if p is None else bytes(p) for p in packed]
            lengths = np.fromiter(map(len, packs), dtype=np.int64, count=len(packs)) // _PACKED.itemsize
            answers = np.frombuffer(b"".join(packs), dtype=_PACKED)
            yield _Chunk(cells=cells, decode=lambda key: tuple(json.loads(key)),
                         staff=np.array(staff, dtype=bool), status=status,
                         weight=np.array(weight, dtype=np.float64), account=np.array(account, dtype=np.int64),
                         row=np.repeat(np.arange(len(packs)), lengths),
                         item=answers["item"].astype(np.int64), value=answers["value"].astype(np.int16))


def _row_chunks(wave: Wave, seg_keys: list[str]) -> Iterator[_Chunk]:
    sql, params = _attribute_sql(wave, seg_keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    index = {uuid.UUID(str(r[0])): i for i, r in enumerate(rows)}  # raw SQLite rows hold the hex form
    answers = [(index[r], i, v) for r, i, v in Answer.objects.filter(response__wave=wave)
               .values_list("response_id", "item_id", "value").order_by()]
    for start in range(0, max(len(rows), 1), CHUNK):
        part = rows[start:start + CHUNK]
        if not part:
            return
        mine = [(r - start, i, -1 if v is None else v) for r, i, v in answers if start <= r < start + CHUNK]
        arr = np.array(mine, dtype=np.int64).reshape(-1, 3)
        columns = [list(c) for c in zip(*part, strict=True)]
        yield _chunk_from_columns(columns, len(seg_keys), arr[:, 0], arr[:, 1], arr[:, 2].astype(np.int16))


def _has_vectors() -> bool:
    return connection.vendor == "postgresql"


class _SparseSum:
    """Running sums keyed by int64 codes: the table stays as large as its distinct keys, never as the wave."""

    def __init__(self, width: int):
        self.keys = np.zeros(0, dtype=np.int64)
        self.sums = np.zeros((width, 0))

    def add(self, keys: np.ndarray, *values: np.ndarray) -> None:
        inverse, uniq = pd.factorize(keys)  # hashing, not sorting: the chunk's keys are many, its distinct keys few
        sums = np.stack([np.bincount(inverse, np.asarray(v, dtype=np.float64), minlength=uniq.size) for v in values])
        at = np.searchsorted(self.keys, uniq)
        known = at < self.keys.size
        known[known] = self.keys[at[known]] == uniq[known]
        self.sums[:, at[known]] += sums[:, known]
        if not known.all():
            keys_all = np.concatenate([self.keys, uniq[~known]])
            order = np.argsort(keys_all, kind="stable")
            self.keys = keys_all[order]
            self.sums = np.concatenate([self.sums, sums[:, ~known]], axis=1)[:, order]


def _weighted(keys: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    return keys, np.ones(keys.size), weight, weight * weight


def one_pass_counts(wave: Wave) -> selectors.WaveCounts:
    seg_keys = selectors._all_segment_keys(wave)
    seg_cols = [selectors._seg_alias(k) for k in seg_keys]
    items = list(ItemPair.objects.filter(instrument_id=wave.instrument_id).order_by("id"))
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
    overall_pos = np.flatnonzero(likert_dim)
    half = {d: -(-len(p) // 2) for d, p in dim_pos.items()}
    # Radix of a score key: (s, c) with 0 ≤ s ≤ Σ scale points and 0 ≤ c ≤ number of items.
    s_radix = int(flip[overall_pos].sum()) + 1 if overall_pos.size else 1
    c_radix = int(overall_pos.size) + 1
    dim_index = {d: k for k, d in enumerate([0, *dims])}

    cell_keys: dict = {}  # a chunk's cell key → code
    cells: dict[tuple, int] = {}  # (side, seg…, account status) → code, in the same order
    shorts: dict[tuple, int] = {}  # (side, seg…) → code: the overall score and respondent counts ignore the status
    short_of: list[int] = []  # cell code → short code
    answers, responses = _SparseSum(3), _SparseSum(1)
    scores, overall = _SparseSum(3), _SparseSum(3)
    moments = {(side, d, complete): np.zeros((6, len(p), len(p)))
               for d, p in dim_pos.items() for side in (Side.STAFF, Side.CUSTOMER) for complete in (True, False)}
    acct_dim, acct_item = _SparseSum(2), _SparseSum(2)
    status_of: dict[int, object] = {}

    chunks = _packed_chunks(wave, seg_keys) if _has_vectors() else _row_chunks(wave, seg_keys)
    for ch in chunks:
        n = len(ch.cells)
        seen = len(cell_keys)
        cell = np.fromiter((cell_keys.setdefault(k, len(cell_keys)) for k in ch.cells), dtype=np.int64, count=n)
        for key in list(cell_keys)[seen:]:
            cells[ch.decode(key)] = len(cells)
        for key in list(cells)[len(short_of):]:
            short_of.append(shorts.setdefault(key[:-1], len(shorts)))
        short = np.asarray(short_of, dtype=np.int64)[cell]
        weight, account = ch.weight, ch.account
        staff = ch.staff
        first = np.unique(account, return_index=True)[1]
        for a, i in zip(account[first].tolist(), first.tolist(), strict=True):
            if a >= 0:
                status_of.setdefault(a, ch.status[i])

        # One row per response, one column per item; answers to items outside the instrument are ignored.
        pos = np.searchsorted(ids, ch.item)
        known = (pos < m) & (ids[np.minimum(pos, m - 1)] == ch.item) if m else np.zeros(ch.item.size, dtype=bool)
        known &= ch.value < levels
        x = np.full((n, m), _MISSING, dtype=np.int64)
        x[ch.row[known], pos[known]] = ch.value[known]
        valid = x >= 0

        responses.add(short, np.ones(n))

        # Per-level counts of every item (stats.md §1.1), with SUM(weight) and SUM(weight²) (§9).
        r, p = np.nonzero(valid)
        answers.add(*_weighted((cell[r] * m + p) * levels + x[r, p], weight[r]))

        recoded = np.where(reverse, flip - x, x) * valid  # stats.md §0; 0 where not answered

        def tally(dim_id: int, positions: np.ndarray, cell: np.ndarray, recoded=recoded, valid=valid,
                  weight=weight) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
            """Each scored respondent's (s, c) and the score-table key of their cell (stats.md §3.1–3.2)."""
            s = recoded[:, positions].sum(axis=1)
            c = valid[:, positions].sum(axis=1)
            scored = np.flatnonzero(c > 0)
            key = ((cell[scored] * len(dim_index) + dim_index[dim_id]) * s_radix + s[scored]) * c_radix + c[scored]
            return s, c, _weighted(key, weight[scored])

        # Customer accounts (stats.md §10): each contact's score (half rule applied), averaged per account.
        linked = (account >= 0) & ~staff
        score_parts, acct_parts = [], []
        for d, positions in dim_pos.items():
            s, c, part = tally(d, positions, cell)
            score_parts.append(part)
            ok = np.flatnonzero(linked & (c >= half[d]))
            acct_parts.append((account[ok] * len(dim_index) + dim_index[d], s[ok] / c[ok]))
            # Cronbach moments (stats.md §1.2, §3.3): sums of products over respondents, pairwise and listwise.
            a = recoded[:, positions].astype(np.float64)
            ok_v = valid[:, positions].astype(np.float64)
            complete = valid[:, positions].all(axis=1)
            for side, mask in ((Side.STAFF, staff), (Side.CUSTOMER, ~staff)):
                for listwise in (True, False):
                    rows = mask & complete if listwise else mask
                    aa, vv = a[rows], ok_v[rows]
                    moments[(side, d, listwise)] += np.stack([
                        vv.T @ vv, aa.T @ vv, vv.T @ aa, (aa * aa).T @ vv, vv.T @ (aa * aa), aa.T @ aa])
        if score_parts:
            scores.add(*(np.concatenate(cols) for cols in zip(*score_parts, strict=True)))
            keys, values = (np.concatenate(cols) for cols in zip(*acct_parts, strict=True))
            acct_dim.add(keys, values, np.ones(keys.size))
        if overall_pos.size:
            overall.add(*tally(0, overall_pos, short)[2])
        rows_o, cols_o = np.nonzero(valid[:, outcome_pos] & linked[:, None])
        acct_item.add(account[rows_o] * max(m, 1) + outcome_pos[cols_o], x[rows_o, outcome_pos[cols_o]],
                      np.ones(rows_o.size))

    def unpack(table: _SparseSum, keyed: dict[tuple, int], names: list[str], *radices: int) -> dict[str, list]:
        """Columns of a table: its key split into the cell's attributes and digits of the given radices."""
        rest = table.keys
        digits = []
        for radix in reversed(radices):
            rest, digit = np.divmod(rest, radix)
            digits.append(digit)
        by_code = [None] * len(keyed)
        for key, code in keyed.items():
            by_code[code] = key
        attrs = np.empty((len(by_code), len(names)), dtype=object)
        attrs[:] = by_code if by_code else np.empty((0, len(names)), dtype=object)
        columns = {name: attrs[rest, j].tolist() for j, name in enumerate(names)}
        return columns, list(reversed(digits)), table.sums

    long_names = ["side", *seg_cols, "account_status"]
    dim_ids = np.array([0, *dims], dtype=np.int64)

    def frame(order: list[str], columns: dict, sums: np.ndarray, **numeric) -> pd.DataFrame:
        data = {**columns, **numeric, "n": sums[0].astype(np.int64)}
        if len(sums) == 3:
            data.update(w=sums[1], w2=sums[2])
        return pd.DataFrame({name: data[name] for name in order})

    cols, (p, v), sums = unpack(answers, cells, long_names, m, levels)
    answer_frame = frame(["side", "item_id", "value", *seg_cols, "account_status", "n", "w", "w2"], cols, sums,
                         item_id=ids[p] if m else p, value=v)
    score_order = ["side", "dimension_id", "s", "c", *seg_cols, "account_status", "n", "w", "w2"]
    cols, (d, s_, c_), sums = unpack(scores, cells, long_names, len(dim_index), s_radix, c_radix)
    score_frame = frame(score_order, cols, sums, dimension_id=dim_ids[d], s=s_, c=c_)
    cols, (d, s_, c_), sums = unpack(overall, shorts, long_names[:-1], len(dim_index), s_radix, c_radix)
    overall_frame = frame([c for c in score_order if c != "account_status"], cols, sums,
                          dimension_id=dim_ids[d], s=s_, c=c_)
    cols, _, sums = unpack(responses, shorts, long_names[:-1])
    response_frame = frame(["side", *seg_cols, "n"], cols, sums)

    moment_dicts: dict = {}
    for (side, d, listwise), mo in moments.items():
        pid = ids[dim_pos[d]]
        moment_dicts[(side, d, listwise)] = {
            (int(pid[a]), int(pid[b])): selectors.PairMoments(
                int(mo[0, a, b]), float(mo[1, a, b]), float(mo[2, a, b]), float(mo[3, a, b]),
                float(mo[4, a, b]), float(mo[5, a, b]))
            for a in range(len(pid)) for b in range(a, len(pid)) if mo[0, a, b] > 0
        }

    account_rows = []
    for k, (total, count) in zip(acct_dim.keys.tolist(), acct_dim.sums.T.tolist(), strict=True):
        acct, d = divmod(k, len(dim_index))
        account_rows.append((acct, status_of[acct], f"dim:{dim_ids[d]}", total / count))
    for k, (total, count) in zip(acct_item.keys.tolist(), acct_item.sums.T.tolist(), strict=True):
        acct, p = divmod(k, max(m, 1))
        account_rows.append((acct, status_of[acct], f"item:{int(ids[p])}", total / count))

    return selectors.WaveCounts(
        answers=answer_frame,
        scores=score_frame,
        overall_scores=overall_frame,
        responses=response_frame,
        moments=moment_dicts,
        accounts=pd.DataFrame.from_records(account_rows, columns=["account_id", "status", "measure", "score"]),
    )
