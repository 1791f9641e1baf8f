"""Bulk loading of responses with their answers: PostgreSQL COPY, with an ORM fallback for SQLite.

``services.response_submit`` is the rule for one response arriving from a
person; this module is for data that already exists in bulk (the demo at
scale, benchmarks, large imports) and would take hours row by row. It writes
the same rows the ORM would — same columns, the answers packed in the row
(``surveys.packing``), same constraints checked by the database (a staff row
still cannot carry an invitation, an account or a time) — only through
PostgreSQL's ``COPY … FROM STDIN``, in its binary format built for a batch at once by numpy
(``surveys.pgbinary``). Rows come as ``BulkResponse`` objects or, for millions, as ``ResponseColumns``
batches of arrays.

Callers validate the responses (answers against the instrument); this module checks only that a
column batch is well formed and that the answers can be packed, naming the column. Rows are written in
the caller's transaction, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

from surveys import packing
from surveys.bulk_input import BulkResponse, ResponseColumns
from surveys.models import Invitation, InvitationUse, SurveyResponse
from surveys.releases import ImportReleases

__all__ = ["BulkResponse", "ResponseColumns", "invitation_uses_bulk_load", "invitations_bulk_load",
           "responses_bulk_load"]

Progress = Callable[[int], None] | None


_RESPONSE_COLUMNS = ("id", "wave_id", "side", "language", "channel", "segments", "weight", "comment",
                     "submitted_on", "submitted_at", "invitation_id", "customer_account_id", "served_department",
                     "answers_packed", "release")
# Each column's type as PostgreSQL names it: the binary COPY sends values in these types' own formats, so a load
# checks them first (a schema that changed under the loader is refused by name, not stored wrongly).
_RESPONSE_TYPES = {"id": "uuid", "wave_id": "bigint", "side": "character varying", "language": "character varying",
                   "channel": "character varying", "segments": "jsonb", "weight": "double precision",
                   "comment": "text", "submitted_on": "date", "submitted_at": "timestamp with time zone",
                   "invitation_id": "bigint", "customer_account_id": "bigint",
                   "served_department": "character varying", "answers_packed": "bytea",
                   "release": "integer"}

def _batches(rows: Iterable, size: int) -> Iterator[list | ResponseColumns]:
    """Lists of at most ``size`` rows, and ResponseColumns batches cut into pieces of at most ``size``.

    Pieces smaller than what a generator yields let the COPY of one piece overlap the encoding of the next
    (and the generator's next batch): only the first piece's encoding and the last piece's COPY are not
    overlapped, instead of a whole generated batch each (bench/NOTES.md, the bulk load at 100,000).
    """
    it = iter(rows)
    pending: list = []
    for row in it:
        if isinstance(row, ResponseColumns):
            if pending:
                yield pending
                pending = []
            for start in range(0, len(row), size):
                yield row.piece(start, start + size) if len(row) > size else row
            continue
        pending.append(row)
        if len(pending) == size:
            yield pending
            pending = []
    if pending:
        yield pending


def responses_bulk_load(rows: Iterable[BulkResponse | ResponseColumns], *, batch_size: int = 20_000,
                        progress: Progress = None, rebuild_indexes: bool = False) -> int:
    """Insert responses with their answers (packed in each row, ``surveys.packing``); returns how many.

    ``rows`` yields ``BulkResponse`` rows, or ``ResponseColumns`` batches (each stored as one batch), or both.
    The load publishes its own rows: once a wave's side has k of them, they are written stamped with the
    release they form, made when the load ends (``surveys.releases.ImportReleases``: no ``UPDATE`` of the rows
    on a later read). A side with fewer than k is written waiting, as form posts are.
    On PostgreSQL each batch is one binary COPY of response rows (``surveys.pgbinary``), in one transaction: a
    failure anywhere leaves nothing. The wave's data version moves by the response table's statement triggers
    (reports/0002, 0006).

    ``rebuild_indexes`` is the mode for loading millions of rows into a quiet database, never a live one: it
    locks the response table until it commits. The table's foreign keys and secondary indexes are dropped for
    the load and made again afterwards (one sort and one validating pass each instead of a check and random
    index writes per row). Without it, the database checks and indexes each row as it arrives.
    On other databases the ORM's ``bulk_create`` does the same work.
    """
    if connection.vendor != "postgresql":
        return _orm_load(rows, batch_size=min(batch_size, 2000), progress=progress)
    stamps = ImportReleases()
    with transaction.atomic():
        _check_types()
        saved = _drop_extras() if rebuild_indexes else None
        total = 0
        with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
            raw = cursor.cursor  # psycopg 3 cursor: COPY needs it
            # Two batches in flight: this thread encodes the next batch (numpy, which releases the interpreter
            # lock for most of it) while a second one sends the previous batch and waits for PostgreSQL to store
            # it (the connection is used by one thread at a time).
            pending: tuple[Future, int] | None = None
            for batch in _batches(rows, batch_size):
                pairs = _pairs(batch)
                if pending is not None and any(stamps.asks_database(w, s, len(i)) for (w, s), i in pairs.items()):
                    total += _finished(pending, progress)  # the connection is free for the release's queries
                    pending = None
                release = _release_numbers(batch, pairs, stamps)
                payload = _copy_payload(batch, release)
                if pending is not None:
                    total += _finished(pending, progress)
                pending = (pool.submit(_copy_responses, raw, payload), len(batch))
            if pending is not None:
                total += _finished(pending, progress)
        if saved is not None:
            _restore_extras(saved)
        stamps.settle()
    return total


def _pairs(batch: list[BulkResponse] | ResponseColumns) -> dict[tuple[int, str], object]:
    """The batch's row positions for each (wave, side) it holds: index arrays for columns, lists for rows."""
    import numpy as np

    if isinstance(batch, ResponseColumns):
        sides = np.asarray(batch.side).astype(str)
        return {(int(batch.wave_id), str(s)): np.flatnonzero(sides == s) for s in np.unique(sides)}
    out: dict[tuple[int, str], list[int]] = {}
    for position, row in enumerate(batch):
        out.setdefault((int(row.wave_id), str(row.side)), []).append(position)
    return out


def _release_numbers(batch: list[BulkResponse] | ResponseColumns, pairs: dict, stamps: ImportReleases):
    """Each row's release number (0: written waiting), asked of ``stamps`` pair by pair."""
    import numpy as np

    numbers = np.zeros(len(batch), dtype=np.int64)
    for (wave_id, side), positions in pairs.items():
        if isinstance(batch, ResponseColumns):
            def ids(positions=positions):
                return [uuid.UUID(bytes=np.asarray(batch.ids[p], dtype=np.uint8).tobytes()) for p in positions]
        else:
            def ids(positions=positions):
                return [batch[p].id for p in positions]
        numbers[positions] = stamps.stamp(wave_id, side, len(positions), ids) or 0
    return numbers


def _finished(pending: tuple[Future, int], progress: Progress) -> int:
    future, n = pending
    future.result()  # the batch's COPY error, if any, raised here
    if progress:
        progress(n)
    return n


def _check_types() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                       "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                       [SurveyResponse._meta.db_table])
        found = dict(cursor.fetchall())
    wrong = {c: found.get(c) for c, t in _RESPONSE_TYPES.items() if found.get(c) != t}
    if wrong:
        raise RuntimeError(f"the response table's columns are not of the types the bulk loader writes: {wrong}")


def _copy_payload(batch: list[BulkResponse] | ResponseColumns, release):
    """The batch's rows in the binary COPY format (one uint8 array), columns in ``_RESPONSE_COLUMNS`` order;
    ``release`` is each row's release number (0: waiting, NULL)."""
    from surveys import pgbinary

    fields = _column_fields(batch) if isinstance(batch, ResponseColumns) else _row_fields(batch)
    fields["release"] = pgbinary.fixed(release, ">i4", null=release == 0)
    return pgbinary.rows([fields[c] for c in _RESPONSE_COLUMNS])


def _segments_json(segments: dict) -> str:
    return json.dumps(segments, ensure_ascii=False, separators=(",", ":"))


def _codes(values: Sequence) -> tuple[list, list[int]]:
    """The distinct values in first-seen order, and each value's index among them."""
    index: dict = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return list(index), codes


def _row_fields(batch: list[BulkResponse]) -> dict:
    import numpy as np

    from surveys import pgbinary

    def coded(values: Sequence[str]):
        distinct, codes = _codes(values)
        return pgbinary.coded(np.array(codes, dtype=np.int64), [v.encode() for v in distinct])

    def ids(values: Sequence[int | None]):
        return pgbinary.fixed(np.array([v or 0 for v in values], dtype=np.int64), ">i8",
                              null=np.array([v is None for v in values], dtype=bool))

    texts, codes = _codes(_segments_json(r.segments) for r in batch)
    packed = [packing.pack(r.answers) for r in batch]
    today = date.today()
    weights = [r.weight for r in batch]
    return {
        "id": pgbinary.raw(np.frombuffer(b"".join(r.id.bytes for r in batch), dtype=np.uint8).reshape(-1, 16)),
        "wave_id": pgbinary.fixed(np.array([r.wave_id for r in batch], dtype=np.int64), ">i8"),
        "side": coded([r.side for r in batch]),
        "language": coded([r.language for r in batch]),
        "channel": coded([r.channel for r in batch]),
        "segments": pgbinary.jsonb(np.array(codes, dtype=np.int64), texts),
        "weight": pgbinary.fixed(np.array([0.0 if w is None else w for w in weights], dtype=np.float64), ">f8",
                                 null=np.array([w is None for w in weights], dtype=bool)),
        "comment": pgbinary.texts([r.comment for r in batch]),
        "submitted_on": pgbinary.dates(np.array([r.submitted_on or today for r in batch], dtype="datetime64[D]")),
        "submitted_at": pgbinary.timestamps(np.array([_utc_us(r.submitted_at) for r in batch],
                                                     dtype="datetime64[us]")),
        "invitation_id": ids([r.invitation_id for r in batch]),
        "customer_account_id": ids([r.customer_account_id for r in batch]),
        "served_department": coded([r.served_department for r in batch]),
        "answers_packed": pgbinary.variable(np.frombuffer(b"".join(packed), dtype=np.uint8),
                                            np.fromiter(map(len, packed), dtype=np.int64, count=len(packed))),
    }


def _utc_us(moment: datetime | None):
    """A time as numpy's datetime64 in UTC (naive times are taken as UTC, the connection's time zone)."""
    import numpy as np

    if moment is None:
        return np.datetime64("NaT", "us")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(moment, "us")


def _column_fields(cols: ResponseColumns) -> dict:
    import numpy as np

    from surveys import pgbinary

    cols.check()
    n = len(cols)

    def each(name: str, value, dtype=None):
        return np.asarray(value, dtype=dtype)

    def constant(text: str):
        return pgbinary.coded(np.zeros(n, dtype=np.int64), [text.encode()])

    def ids(name: str, value):
        if value is None:
            return pgbinary.fixed(np.zeros(n, dtype=np.int64), ">i8", null=np.ones(n, dtype=bool))
        array = each(name, value, np.int64)
        return pgbinary.fixed(array, ">i8", null=array == 0)

    sides, side_codes = np.unique(each("side", cols.side).astype(str), return_inverse=True)
    codes = each("segment_codes", cols.segment_codes, np.int64)
    buffer, lengths = packing.pack_many(each("items", cols.items), each("values", cols.values))
    weight = None if cols.weight is None else each("weight", cols.weight, np.float64)
    return {
        "id": pgbinary.raw(each("ids", cols.ids, np.uint8)),
        "wave_id": pgbinary.fixed(np.full(n, cols.wave_id, dtype=np.int64), ">i8"),
        "side": pgbinary.coded(side_codes, [s.encode() for s in sides]),
        "language": constant(cols.language),
        "channel": constant(cols.channel),
        "segments": pgbinary.jsonb(codes, [_segments_json(s) for s in cols.segments]),
        "weight": (pgbinary.fixed(np.zeros(n), ">f8", null=np.ones(n, dtype=bool)) if weight is None
                   else pgbinary.fixed(weight, ">f8", null=np.isnan(weight))),
        "comment": constant(""),
        "submitted_on": pgbinary.dates(each("submitted_on", cols.submitted_on, "datetime64[D]")),
        "submitted_at": pgbinary.timestamps(np.full(n, np.datetime64("NaT", "us")) if cols.submitted_at is None
                                            else each("submitted_at", cols.submitted_at, "datetime64[us]")),
        "invitation_id": ids("invitation_id", cols.invitation_id),
        "customer_account_id": ids("customer_account_id", cols.customer_account_id),
        "served_department": constant(""),
        "answers_packed": pgbinary.variable(buffer, lengths),
    }


def _copy_responses(raw, payload) -> None:
    from surveys import pgbinary

    table = SurveyResponse._meta.db_table
    with raw.copy(f"COPY {table} ({', '.join(_RESPONSE_COLUMNS)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(pgbinary.HEADER)
        copy.write(memoryview(payload))
        copy.write(pgbinary.TRAILER)


def _orm_load(rows: Iterable[BulkResponse | ResponseColumns], *, batch_size: int, progress: Progress) -> int:
    total = 0
    stamps = ImportReleases()
    with transaction.atomic():
        for batch in _batches(rows, batch_size):
            if isinstance(batch, ResponseColumns):
                batch = batch.to_rows()
            release = _release_numbers(batch, _pairs(batch), stamps).tolist()
            SurveyResponse.objects.bulk_create([
                SurveyResponse(**{c: getattr(r, c) for c in _RESPONSE_COLUMNS
                                  if c not in ("submitted_on", "answers_packed", "release")},
                               submitted_on=r.submitted_on or date.today(), answers_packed=packing.pack(r.answers),
                               release=number or None)
                for r, number in zip(batch, release, strict=True)
            ])
            total += len(batch)
            if progress:
                progress(len(batch))
        stamps.settle()
    return total


# --------------------------------------------------------------------------- invitations


def invitations_bulk_load(invitations: Sequence[Invitation], *, batch_size: int = 50_000) -> list[Invitation]:
    """Insert unsaved invitations and set their primary keys (found again by ``token_hash``)."""
    if connection.vendor != "postgresql":
        created = Invitation.objects.bulk_create(invitations, batch_size=1000)
        if any(inv.pk is None for inv in created):
            by_hash = dict(Invitation.objects.filter(token_hash__in=[i.token_hash for i in created])
                           .values_list("token_hash", "pk"))
            for inv in created:
                inv.pk = by_hash[inv.token_hash]
        return list(created)
    cols = ("wave_id", "side", "token_hash", "email", "name", "language", "segments", "customer_account_id",
            "created_at", "sent_at", "last_reminded_at", "reminder_count")
    now = datetime.now().astimezone()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for batch in _batches(invitations, batch_size):
            with raw.copy(f"COPY {Invitation._meta.db_table} ({', '.join(cols)}) FROM STDIN") as copy:
                for inv in batch:
                    copy.write_row((inv.wave_id, inv.side, inv.token_hash, inv.email, inv.name, inv.language,
                                    json.dumps(inv.segments, ensure_ascii=False), inv.customer_account_id,
                                    now, inv.sent_at, inv.last_reminded_at, inv.reminder_count))
            by_hash = dict(Invitation.objects.filter(token_hash__in=[i.token_hash for i in batch])
                           .values_list("token_hash", "pk"))
            for inv in batch:
                inv.pk = inv.id = by_hash[inv.token_hash]
                inv.created_at = now
    return list(invitations)


def invitation_uses_bulk_load(uses: Sequence[InvitationUse]) -> None:
    if connection.vendor != "postgresql":
        InvitationUse.objects.bulk_create(uses, batch_size=1000)
        return
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {InvitationUse._meta.db_table} (invitation_id, used_on) FROM STDIN") as copy:
        for use in uses:
            copy.write_row((use.invitation_id, use.used_on))


# --------------------------------------------------------------------------- index rebuild


@dataclass
class _Extras:
    constraints: list[tuple[str, str]]  # name, definition
    indexes: list[str]


def _drop_extras() -> _Extras:
    """Drop what makes each response row cost a check or a random index write (foreign keys, secondary indexes)."""
    table = SurveyResponse._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [table])
        constraints = list(cursor.fetchall())
        # Unique indexes stay: they are the rules (one response per invitation), not a cost to defer.
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary", [table])
        found = list(cursor.fetchall())
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in found:
            cursor.execute(f"DROP INDEX {name}")
    return _Extras(constraints=constraints, indexes=[d for _, d in found])


def _restore_extras(saved: _Extras) -> None:
    table = SurveyResponse._meta.db_table
    with connection.cursor() as cursor:
        for name, definition in saved.constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for definition in saved.indexes:
            cursor.execute(definition)
