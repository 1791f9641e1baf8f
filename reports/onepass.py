"""Every count table of a wave from one pass over its responses.

The gap engine needs per-level answer counts, dimension-score tables,
Cronbach moments and per-account scores (:class:`reports.selectors.WaveCounts`).
Asking the database for each of them separately costs about sixty queries,
several of them self-joins of the answers — a hundred times a bare
``GROUP BY`` over the same answers on a large wave. This module reads each
response once instead, as one row — its side, weight, account and account
status as fixed-width fields, its segments as JSON text, and its answers
packed into one ``bytea`` kept by triggers (:class:`reports.models.AnswerVector`).

On PostgreSQL the rows come as one binary ``COPY``, received by a thread in
batches while this thread parses the previous batch with numpy (no Python
object per response) and accumulates every table from it. Memory is a couple
of batches plus the tables, whatever the size of the wave.

Without the packed vectors (SQLite, where there are no triggers), the answers
are read as rows and grouped by response in Python: the same accumulation,
meant for development-sized waves.

The tables are equal to those of :func:`reports.selectors.wave_counts_by_queries`
(``tests/gap/test_onepass.py`` checks it on both databases, with awkward data).
"""

from __future__ import annotations

import queue
import select
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from surveys.models import Answer, ItemKind, ItemPair, Side, SurveyResponse, Wave

from . import selectors

CHUNK = 25_000  # responses per batch: bounds the memory of a read (bench/NOTES.md)
_PACKED = np.dtype([("item", ">i4"), ("value", ">i2")])  # int4send(item_id) || int2send(value), −1 = N/A
_ITEM_TABLE_LIMIT = 1 << 22  # item ids below this are looked up in a table; above, by binary search
_MISSING = -2  # not answered; −1 is N/A (answered "does not apply"); both are left out of every count


@dataclass
class _Chunk:
    """Up to CHUNK responses: their attributes, and their answers as (row, item id, value) arrays."""

    cell: np.ndarray  # per response, the code of its cell (side, segment values…, account status) in the reader
    staff: np.ndarray
    weight: np.ndarray  # 1.0 where the response has none
    account: np.ndarray  # −1 where the response has none
    row: np.ndarray
    item: np.ndarray
    value: np.ndarray


class _Reader:
    """Chunks of a wave's responses; :meth:`cells` then names each cell code (only once the read is over)."""

    def __init__(self, wave: Wave, seg_keys: list[str]):
        self.wave, self.seg_keys = wave, seg_keys
        self._codes: dict = {}  # a reader-specific key of a cell → its code, in order of first appearance

    def _code(self, keys) -> np.ndarray:
        codes = self._codes
        return np.fromiter((codes.setdefault(k, len(codes)) for k in keys), dtype=np.int64)

    def __iter__(self) -> Iterator[_Chunk]:
        raise NotImplementedError

    def cells(self) -> list[tuple]:
        """(side, segment values…, account status) of each cell code, with the values as ``segments ->> key``."""
        raise NotImplementedError


class _RowReader(_Reader):
    """Any database: the responses and their answers as rows, grouped by response in Python (development sizes)."""

    def __iter__(self) -> Iterator[_Chunk]:
        seg = {selectors._seg_alias(k): selectors.segment_expression(k) for k in self.seg_keys}
        qs = (SurveyResponse.objects.filter(wave=self.wave, release__isnull=False).annotate(**seg)
              .values_list("id", "side", *seg.keys(), "weight", "customer_account_id", "customer_account__status")
              .order_by())
        sql, params = selectors._compile(qs)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        index = {uuid.UUID(str(r[0])): i for i, r in enumerate(rows)}  # raw SQLite rows hold the hex form
        answers = [(index[r], i, v) for r, i, v in Answer.objects.filter(response__wave=self.wave,
                                                                          response__release__isnull=False)
                   .values_list("response_id", "item_id", "value").order_by()]
        n_seg = len(self.seg_keys)
        for start in range(0, len(rows), CHUNK):
            part = rows[start:start + CHUNK]
            mine = [(r - start, i, -1 if v is None else v) for r, i, v in answers if start <= r < start + CHUNK]
            arr = np.array(mine, dtype=np.int64).reshape(-1, 3)
            columns = [list(c) for c in zip(*part, strict=True)]
            sides = columns[1]
            yield _Chunk(cell=self._code(zip(sides, *columns[2:2 + n_seg], columns[4 + n_seg], strict=True)),
                         staff=np.array([side == Side.STAFF for side in sides], dtype=bool),
                         weight=np.array([1.0 if w is None else w for w in columns[2 + n_seg]], dtype=np.float64),
                         account=np.array([-1 if a is None else a for a in columns[3 + n_seg]], dtype=np.int64),
                         row=arr[:, 0], item=arr[:, 1], value=arr[:, 2].astype(np.int16))

    def cells(self) -> list[tuple]:
        return list(self._codes)


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # the binary COPY header (then int32 flags and int32 extension length)
_TRAILER = b"\xff\xff"
_FIELDS = 6
# Byte offsets inside a row of the binary COPY: int16 field count, then each field as int32 length + data.
_AT_STAFF, _AT_WEIGHT, _AT_ACCOUNT, _AT_STATUS, _AT_SEG_LEN = 6, 11, 23, 35, 39
_FIXED = 43  # the segments' text starts here; then int32 length and the packed answers
_HASHED_WIDTH = 1024  # bytes of segments text hashed in numpy; longer texts are named in Python
_HASH = np.random.default_rng(20261123).integers(1, 2**63, size=_HASHED_WIDTH // 8, dtype=np.uint64) | np.uint64(1)


def packed_sql(wave: Wave) -> tuple[str, tuple]:
    """The one query of a PostgreSQL read: a row per response, fixed-width attributes, its segments and answers.

    Columns: staff (bool), weight (float8, 1 where none), account (int8, −1
    where none), account status (int4: 0 without an account, else its position
    in ``CustomerAccount.Status``, −1 for any other value), the segments as
    JSON text with the channel added under ``selectors.CHANNEL_KEY``, and the
    answers packed by the triggers. Only published responses (surveys.releases).
    """
    from reports.models import AnswerVector
    from surveys.models import CustomerAccount

    sql = (f"SELECT r.side = %s, COALESCE(r.weight, 1.0)::float8, COALESCE(r.customer_account_id, -1)::int8, "
           f"(CASE WHEN ca.id IS NULL THEN 0 "
           f"ELSE COALESCE(array_position(%s::text[], ca.status::text), -1) END)::int4, "
           f"(COALESCE(r.segments, '{{}}'::jsonb) || jsonb_build_object(%s::text, r.channel))::text, "
           f"COALESCE(v.packed, ''::bytea) "
           f"FROM {SurveyResponse._meta.db_table} r "
           f"LEFT JOIN {CustomerAccount._meta.db_table} ca ON ca.id = r.customer_account_id "
           f"LEFT JOIN {AnswerVector._meta.db_table} v ON v.response_id = r.id AND v.wave_id = %s "
           f"WHERE r.wave_id = %s AND r.release IS NOT NULL")
    return sql, (Side.STAFF, list(_statuses()), selectors.CHANNEL_KEY, wave.pk, wave.pk)


def _statuses() -> tuple[str, ...]:
    from surveys.models import CustomerAccount

    return tuple(CustomerAccount.Status.values)


class _CopyReader(_Reader):
    """PostgreSQL: one binary ``COPY`` of a row per response with its packed answers (:class:`AnswerVector`).

    A thread receives the rows while this one parses and counts the previous
    batch, so the database's work and ours overlap. Each row of a binary COPY
    arrives as one message; every field but the last two has a fixed width, so
    numpy parses a batch at once from the message lengths.
    """

    def __init__(self, wave: Wave, seg_keys: list[str]):
        super().__init__(wave, seg_keys)
        self._segments: dict[bytes, int] = {}  # the segments' JSON text → code
        self._odd_status: dict[int, str] = {}  # account → a status outside CustomerAccount.Status

    def __iter__(self) -> Iterator[_Chunk]:
        sql, params = packed_sql(self.wave)
        # Inside a transaction; the accounts' side of the join is hashed, given the memory not to spill.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{settings.KAGAMI_GAP_WORK_MEM}'")  # validated in settings
            batches: queue.Queue = queue.Queue(maxsize=2)
            stop = threading.Event()
            receiver = threading.Thread(target=_receive, args=(cursor.cursor, sql, params, batches, stop),
                                        name="kagami-gap-copy", daemon=True)
            receiver.start()
            try:
                first = True
                while (batch := batches.get()) is not None:
                    if isinstance(batch, BaseException):
                        with connection.wrap_database_errors:  # as Django's own cursor would raise it
                            raise batch
                    if first:
                        batch[0] = _strip_header(batch[0])
                        first = False
                    if batch and batch[-1] == _TRAILER:
                        batch.pop()
                    if batch:
                        yield self._parse(batch)
            finally:
                stop.set()
                while receiver.is_alive():  # let it finish or cancel the COPY; nothing else may use the connection
                    try:
                        batches.get(timeout=0.1)
                    except queue.Empty:
                        pass
                receiver.join()
        odd = [a for a in self._odd_status]
        if odd:  # statuses outside the choices: read them now that the connection is free again
            from surveys.models import CustomerAccount

            self._odd_status.update(CustomerAccount.objects.filter(pk__in=odd).values_list("pk", "status"))

    def _parse(self, batch: list[bytes]) -> _Chunk:
        n = len(batch)
        lengths = np.fromiter(map(len, batch), dtype=np.int64, count=n)
        start = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=start[1:])
        buf = np.frombuffer(b"".join(batch) + bytes(_HASHED_WIDTH), dtype=np.uint8)  # padded for the gathers

        def rows_of(at: np.ndarray, size: int) -> np.ndarray:
            """``size`` bytes from each offset, as an (offsets, size) array (one gather)."""
            return np.lib.stride_tricks.as_strided(buf, shape=(buf.size - size + 1, size), strides=(1, 1))[at]

        fixed = rows_of(start, _FIXED)

        def field(offset: int, dtype: str) -> np.ndarray:
            return np.ascontiguousarray(fixed[:, offset:offset + np.dtype(dtype).itemsize]).view(dtype).ravel()

        seg_len = field(_AT_SEG_LEN, ">i4").astype(np.int64)
        width = -(-int(seg_len.max(initial=0)) // 8) * 8 + 8  # the segments texts, zero-padded to whole words
        packed_len = lengths - _FIXED - seg_len - 4
        packed_at = start + _FIXED + seg_len + 4
        if not ((field(0, ">i2") == _FIELDS).all() and (field(_AT_STAFF - 4, ">i4") == 1).all()
                and (packed_len >= 0).all() and not (packed_len % _PACKED.itemsize).any()
                and (rows_of(packed_at - 4, 4).copy().view(">i4").ravel() == packed_len).all()):
            raise RuntimeError("unexpected layout of the binary COPY of a wave's responses")
        status = field(_AT_STATUS, ">i4").astype(np.int64)
        account = field(_AT_ACCOUNT, ">i8").astype(np.int64)
        for a in np.unique(account[status < 0]).tolist():
            self._odd_status.setdefault(a, "")
        seg = self._segment_codes(batch, lambda: rows_of(start + _FIXED, width), seg_len, width)
        staff = fixed[:, _AT_STAFF].astype(bool)
        # A cell is (side, segments, status); a status outside the choices is the account's own (then
        # looked up), so such rows are keyed by their account instead.
        odd = status < 0
        n_status = len(_statuses()) + 1
        key = (seg * 2 + staff) * n_status + np.maximum(status, 0)
        inverse, uniq = pd.factorize(key)
        cell = self._code((k // n_status % 2, k // (2 * n_status), k % n_status) for k in uniq.tolist())[inverse]
        if odd.any():  # set apart before any code is given, so that no cell names the placeholder status
            rows = np.flatnonzero(odd)
            cell[rows] = self._code((int(staff[i]), int(seg[i]), -1 - int(account[i])) for i in rows.tolist())
        # The packed answers: every row's bytes alternate (its other fields, its answers); keep the answers.
        spans = np.empty(2 * n, dtype=np.int64)
        spans[0::2] = packed_at - start
        spans[1::2] = packed_len
        keep = np.repeat(np.tile(np.array([False, True]), n), spans)
        answers = np.frombuffer(buf[:keep.size][keep].tobytes(), dtype=_PACKED)
        row = np.repeat(np.arange(n), packed_len // _PACKED.itemsize)
        return _Chunk(cell=cell, staff=staff, weight=field(_AT_WEIGHT, ">f8").astype(np.float64), account=account,
                      row=row, item=answers["item"].astype(np.int64), value=answers["value"].astype(np.int16))

    def _segment_codes(self, batch: list[bytes], gather, length: np.ndarray, width: int) -> np.ndarray:
        """The code of each row's segments text: hashed in numpy, then each distinct text compared byte for byte.

        ``gather()`` gives each row's bytes from the start of its text, as many as
        the longest text plus a word (``width``); the bytes past each text are zeroed here.
        """
        n = length.size
        segs = self._segments

        def code(texts) -> np.ndarray:
            return np.fromiter((segs.setdefault(t, len(segs)) for t in texts), dtype=np.int64)

        def each_row() -> np.ndarray:  # long texts, or a hash collision: each row's text named in Python
            return code(m[_FIXED:_FIXED + k] for m, k in zip(batch, length.tolist(), strict=True))

        if width > _HASHED_WIDTH:  # rather than pad every row to the longest text
            return each_row()
        text = np.ascontiguousarray(gather())
        text[np.arange(width) >= length[:, None]] = 0
        words = text.view(np.uint64)  # (n, width / 8)
        words[:, -1] = length.astype(np.uint64)
        hashed = (words * _HASH[:words.shape[1]]).sum(axis=1, dtype=np.uint64)
        inverse, uniq = pd.factorize(hashed)
        first = np.full(uniq.size, n, dtype=np.int64)
        np.minimum.at(first, inverse, np.arange(n))
        if not (words == words[first][inverse]).all():
            return each_row()
        return code(text[i, :k].tobytes() for i, k in zip(first.tolist(), length[first].tolist(), strict=True))[inverse]

    def cells(self) -> list[tuple]:
        texts = [t.decode() for t in self._segments]
        values: list[tuple] = []
        if texts and self.seg_keys:
            # The segment values exactly as the count queries extract them (``segments ->> key``).
            cols = ", ".join("s::jsonb ->> %s" for _ in self.seg_keys)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {cols} FROM unnest(%s::text[]) WITH ORDINALITY AS t(s, i) ORDER BY i",
                               [*self.seg_keys, texts])
                values = [tuple(r) for r in cursor.fetchall()]
        else:
            values = [()] * len(texts)
        statuses = (None, *_statuses())
        out = []
        for staff, seg, status in self._codes:
            named = statuses[status] if status >= 0 else self._odd_status[-1 - status]
            out.append((Side.STAFF if staff else Side.CUSTOMER, *values[seg], named))
        return out


def _strip_header(first: bytes) -> bytes:
    if not first.startswith(_SIGNATURE):
        raise RuntimeError("unexpected header of the binary COPY of a wave's responses")
    extension = int.from_bytes(first[15:19], "big")
    return first[19 + extension:]


class _Stop(Exception):
    """The consumer stopped reading: cancel the COPY."""


def _receive(cursor, sql: str, params: tuple, batches: queue.Queue, stop: threading.Event) -> None:
    """The receiving thread: the COPY's messages in batches of CHUNK, then None (or the exception).

    The rows are taken from libpq directly (``PGconn.get_copy_data``), which
    costs half the interpreter time of ``Copy.read`` per message: this thread
    competes for the interpreter lock with the one parsing. When libpq reports
    the end of the COPY, its results are read here too, and an error among
    them (a statement timeout, a cancel) is raised as psycopg would raise it.
    """
    try:
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", params):
            pgconn = cursor.connection.pgconn
            batch: list[bytes] = []
            while True:
                nbytes, data = pgconn.get_copy_data(1)
                if nbytes > 0:
                    batch.append(bytes(data))
                    if len(batch) >= CHUNK:
                        _put(batches, batch, stop)
                        batch = []
                elif nbytes == 0:  # nothing buffered: wait for the socket (the lock is released meanwhile)
                    if stop.is_set():
                        raise _Stop
                    select.select([pgconn.socket], [], [], 0.1)
                    pgconn.consume_input()
                else:
                    _end_of_copy(pgconn, cursor.connection)
                    break
            if batch:
                _put(batches, batch, stop)
        batches.put(None)
    except BaseException as exc:  # handed to the consumer, which raises it
        batches.put(exc)


def _end_of_copy(pgconn, conn) -> None:
    """Read every result that follows the COPY's data; raise the server's error if there is one."""
    import psycopg

    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result)
    for result in results:
        if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)


def _put(batches: queue.Queue, batch: list[bytes], stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise _Stop
        try:
            batches.put(batch, timeout=0.1)
            return
        except queue.Full:
            continue


def _has_vectors() -> bool:
    return connection.vendor == "postgresql"


class _SparseSum:
    """Running sums keyed by int64 codes: the table stays as large as its distinct keys, never as the wave.

    The table's keys are kept sorted: a chunk's distinct keys already in it are
    found by binary search and added in place; new keys wait in a pending list,
    merged into the table (one sort) only when it has grown by a quarter, so the
    sorting costs stay proportional to the table, not to the number of chunks.
    """

    def __init__(self, width: int):
        self._keys = np.zeros(0, dtype=np.int64)
        self._sums = np.zeros((width, 0))
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray, *values: np.ndarray) -> None:
        inverse, uniq = pd.factorize(keys)  # hashing, not sorting: the chunk's keys are many, its distinct keys few
        sums = np.stack([np.bincount(inverse, np.asarray(v, dtype=np.float64), minlength=uniq.size) for v in values])
        at = np.searchsorted(self._keys, uniq)
        known = at < self._keys.size
        known[known] = self._keys[at[known]] == uniq[known]
        self._sums[:, at[known]] += sums[:, known]  # distinct keys: no two land on the same slot
        if not known.all():
            self._pending.append((uniq[~known], sums[:, ~known]))
            self._pending_size += int((~known).sum())
            if self._pending_size > max(1 << 16, self._keys.size // 4):
                self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self._keys, *(k for k, _ in self._pending)])
        sums = np.concatenate([self._sums, *(v for _, v in self._pending)], axis=1)
        self._pending, self._pending_size = [], 0
        uniq, inverse = np.unique(keys, return_inverse=True)
        self._keys = uniq
        self._sums = np.stack([np.bincount(inverse, row, minlength=uniq.size) for row in sums])

    @property
    def keys(self) -> np.ndarray:
        self._merge()
        return self._keys

    @property
    def sums(self) -> np.ndarray:
        self._merge()
        return self._sums


class _DenseSum:
    """Running sums indexed by small non-negative codes (``np.bincount``), sparse once they would not be small."""

    LIMIT = 1 << 21  # codes; beyond this many, the table turns into a _SparseSum

    def __init__(self, width: int):
        self._sums: np.ndarray | None = np.zeros((width, 0))
        self._sparse: _SparseSum | None = None

    def add(self, keys: np.ndarray, *values: np.ndarray) -> None:
        if self._sparse is None:
            size = int(keys.max()) + 1 if keys.size else 0
            if size <= self.LIMIT:
                if size > self._sums.shape[1]:
                    grown = np.zeros((self._sums.shape[0], max(size, 2 * self._sums.shape[1])))
                    grown[:, :self._sums.shape[1]] = self._sums
                    self._sums = grown
                for row, v in zip(self._sums, values, strict=True):
                    row += np.bincount(keys, np.asarray(v, dtype=np.float64), minlength=row.size)
                return
            self._sparse = _SparseSum(self._sums.shape[0])
            used = np.flatnonzero(self._sums[0])
            if used.size:
                self._sparse.add(used, *self._sums[:, used])
            self._sums = None
        self._sparse.add(keys, *values)

    @property
    def keys(self) -> np.ndarray:
        return self._sparse.keys if self._sparse is not None else np.flatnonzero(self._sums[0])

    @property
    def sums(self) -> np.ndarray:
        return self._sparse.sums if self._sparse is not None else self._sums[:, np.flatnonzero(self._sums[0])]


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

    answers, responses = _DenseSum(3), _DenseSum(1)
    scores, overall = _SparseSum(3), _SparseSum(3)
    moments = {(side, d, complete): np.zeros((3 * len(p), 3 * len(p)))
               for d, p in dim_pos.items() for side in (Side.STAFF, Side.CUSTOMER) for complete in (True, False)}
    acct_dim, acct_item = _DenseSum(2), _DenseSum(2)  # keyed by the account's index in account_ids
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
    reader = _CopyReader(wave, seg_keys) if _has_vectors() else _RowReader(wave, seg_keys)
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

        # Per-level counts of every item (docs/statistics.md §1.1), with SUM(weight) and SUM(weight²) (§9).
        answered = valid.ravel()
        keys = ((cell * (m * levels))[:, None] + item_key + x).ravel()[answered]
        w = np.repeat(weight, m)[answered]
        answers.add(keys, np.ones(keys.size), w, w * w)

        recoded = np.where(reverse, flip - x, x) * valid  # docs/statistics.md §0; 0 where not answered

        def tally(dim_id: int, positions: np.ndarray, cell: np.ndarray, recoded=recoded, valid=valid,
                  weight=weight) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
            """Each scored respondent's (s, c) and the score-table key of their cell (docs/statistics.md §3.1–3.2)."""
            s = recoded[:, positions].sum(axis=1)
            c = valid[:, positions].sum(axis=1)
            scored = np.flatnonzero(c > 0)
            key = ((cell[scored] * len(dim_index) + dim_index[dim_id]) * s_radix + s[scored]) * c_radix + c[scored]
            return s, c, _weighted(key, weight[scored])

        # Customer accounts (docs/statistics.md §10): each contact's score (half rule applied), averaged per account.
        score_parts, acct_parts = [], []
        sides = ((Side.STAFF, np.flatnonzero(staff)), (Side.CUSTOMER, np.flatnonzero(~staff)))
        for d, positions in dim_pos.items():
            s, c, part = tally(d, positions, cell)
            score_parts.append(part)
            ok = np.flatnonzero(linked & (c >= half[d]))
            acct_parts.append((acct[ok] * len(dim_index) + dim_index[d], s[ok] / c[ok]))
            # Cronbach moments (docs/statistics.md §1.2, §3.3): sums of products over respondents, pairwise and
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

    def unpack(table: _SparseSum, keyed: dict[tuple, int], names: list[str], *radices: int,
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
            merged = _SparseSum(len(sums))
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
    cols, _, sums = unpack(responses, shorts, long_names[:-1], merge=to_short)
    response_frame = frame(["side", *seg_cols, "n"], cols, sums)

    moment_dicts: dict = {}
    for (side, d, listwise), mo in moments.items():
        pid = ids[dim_pos[d]]
        k = pid.size
        vv, av, va = mo[:k, :k], mo[k:2 * k, :k], mo[:k, k:2 * k]
        a2v, va2, aa = mo[2 * k:, :k], mo[:k, 2 * k:], mo[k:2 * k, k:2 * k]
        moment_dicts[(side, d, listwise)] = {
            (int(pid[a]), int(pid[b])): selectors.PairMoments(
                int(vv[a, b]), float(av[a, b]), float(va[a, b]), float(a2v[a, b]), float(va2[a, b]), float(aa[a, b]))
            for a in range(k) for b in range(a, k) if vv[a, b] > 0
        }

    account_rows = []
    for key, (count, total) in zip(acct_dim.keys.tolist(), acct_dim.sums.T.tolist(), strict=True):
        a, d = divmod(key, len(dim_index))
        account_rows.append((account_ids[a], status_of[a], f"dim:{dim_ids[d]}", total / count))
    for key, (count, total) in zip(acct_item.keys.tolist(), acct_item.sums.T.tolist(), strict=True):
        a, p = divmod(key, max(m, 1))
        account_rows.append((account_ids[a], status_of[a], f"item:{int(ids[p])}", total / count))

    return selectors.WaveCounts(
        answers=answer_frame,
        scores=score_frame,
        overall_scores=overall_frame,
        responses=response_frame,
        moments=moment_dicts,
        accounts=pd.DataFrame.from_records(account_rows, columns=["account_id", "status", "measure", "score"]),
    )
