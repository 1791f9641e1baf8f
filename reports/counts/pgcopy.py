"""The PostgreSQL reader: a wave's published responses as one binary ``COPY``, parsed with numpy.

The only code in Kagami that knows bytes of the wire format or drives libpq.
Each response is one row — its side, weight, account and account status as
fixed-width fields, its segments as JSON text, and its answers as stored, packed
in the response's own row (``SurveyResponse.answers_packed``, format owned by
:mod:`surveys.packing`; read here without a join). A thread
receives the rows in batches while the caller's thread parses the previous batch
(no Python object per response) and tallies it (:mod:`reports.counts.onepass`).
Why it pays: on a million responses the sixty GROUP BY queries cost about a
hundred times one bare ``GROUP BY``; this read costs 1.6 times it (bench/RESULTS.md).
"""

from __future__ import annotations

import queue
import select
import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connections, router, transaction

from reports.counts.tables import CHANNEL_KEY, Chunk, ReleaseSpan
from surveys import packing
from surveys.models import Side, SurveyResponse, Wave

CHUNK = 25_000  # responses per batch: bounds the memory of a read (bench/NOTES.md)
_PACKED = packing.numpy_dtype()  # one answer of SurveyResponse.answers_packed


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # the binary COPY header (then int32 flags and int32 extension length)
_TRAILER = b"\xff\xff"
_FIELDS = 6
# Byte offsets inside a row of the binary COPY: int16 field count, then each field as int32 length + data.
_AT_STAFF, _AT_WEIGHT, _AT_ACCOUNT, _AT_STATUS, _AT_SEG_LEN = 6, 11, 23, 35, 39
_FIXED = 43  # the segments' text starts here; then int32 length and the packed answers
_HASHED_WIDTH = 1024  # bytes of segments text hashed in numpy; longer texts are named in Python
_HASH = np.random.default_rng(20261123).integers(1, 2**63, size=_HASHED_WIDTH // 8, dtype=np.uint64) | np.uint64(1)


def packed_sql(wave: Wave, span: ReleaseSpan | None = None) -> tuple[str, tuple]:
    """The one query of a PostgreSQL read: a row per response, fixed-width attributes, its segments and answers.

    Columns: staff (bool), weight (float8, 1 where none), account (int8, −1
    where none), account status (int4: 0 without an account, else its position
    in ``CustomerAccount.Status``, −1 for any other value), the segments as
    JSON text with the channel added under ``CHANNEL_KEY``, and the
    response's packed answers. Only published responses (surveys.releases).
    """
    from surveys.models import CustomerAccount

    sql = (f"SELECT r.side = %s, COALESCE(r.weight, 1.0)::float8, COALESCE(r.customer_account_id, -1)::int8, "
           f"(CASE WHEN ca.id IS NULL THEN 0 "
           f"ELSE COALESCE(array_position(%s::text[], ca.status::text), -1) END)::int4, "
           f"(COALESCE(r.segments, '{{}}'::jsonb) || jsonb_build_object(%s::text, r.channel))::text, "
           f"r.answers_packed "
           f"FROM {SurveyResponse._meta.db_table} r "
           f"LEFT JOIN {CustomerAccount._meta.db_table} ca ON ca.id = r.customer_account_id "
           f"WHERE r.wave_id = %s AND r.release IS NOT NULL")
    params: tuple = (Side.STAFF, list(_statuses()), CHANNEL_KEY, wave.pk)
    if span is not None:  # one side's releases after one number and up to another (reports.counts.kept)
        # Two ranges, each on its own side, so that each is a range of the (wave, side, release) index: a
        # CASE over the side hid the ranges from the planner, and a read of one new release filtered the wave.
        sql += (" AND ((r.side = %s AND r.release > %s AND r.release <= %s) "
                "OR (r.side = %s AND r.release > %s AND r.release <= %s))")
        params += (Side.STAFF, span.after[Side.STAFF], span.upto[Side.STAFF],
                   Side.CUSTOMER, span.after[Side.CUSTOMER], span.upto[Side.CUSTOMER])
        if span.accounts is not None:
            sql += " AND r.customer_account_id = ANY(%s)"
            params += (list(span.accounts),)
    return sql, params


def _statuses() -> tuple[str, ...]:
    from surveys.models import CustomerAccount

    return tuple(CustomerAccount.Status.values)


class CopyReader:
    """PostgreSQL: one binary ``COPY`` of a row per response with its packed answers (``answers_packed``).

    Iterating gives :class:`Chunk` s; :meth:`cells` then names each cell code
    (only once the read is over). A thread receives the rows while this one
    parses and counts the previous batch, so the database's work and ours
    overlap. Each row of a binary COPY arrives as one message; every field but
    the last two has a fixed width, so numpy parses a batch at once from the
    message lengths.
    """

    def __init__(self, wave: Wave, seg_keys: list[str], span: ReleaseSpan | None = None):
        self.wave, self.seg_keys, self.span = wave, seg_keys, span
        self._codes: dict = {}  # (staff, segments code, status) of a cell → its code, in order of first appearance
        self._segments: dict[bytes, int] = {}  # the segments' JSON text → code
        self._odd_status: dict[int, str] = {}  # account → a status outside CustomerAccount.Status

    def _code(self, keys) -> np.ndarray:
        codes = self._codes
        return np.fromiter((codes.setdefault(k, len(codes)) for k in keys), dtype=np.int64)

    def __iter__(self) -> Iterator[Chunk]:
        sql, params = packed_sql(self.wave, self.span)
        connection = _connection()
        # Inside a transaction; the accounts' side of the join is hashed, given the memory not to spill.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
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

    def _parse(self, batch: list[bytes]) -> Chunk:
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
        return Chunk(cell=cell, staff=staff, weight=field(_AT_WEIGHT, ">f8").astype(np.float64), account=account,
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
            with _connection().cursor() as cursor:
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


def _connection():
    """Where responses are read: the primary, or the replica inside ``backend.db_router.replica_reads``."""
    return connections[router.db_for_read(SurveyResponse)]


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
