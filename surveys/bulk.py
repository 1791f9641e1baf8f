"""Bulk loading of responses with their answers: PostgreSQL COPY, with an ORM fallback for SQLite.

``services.response_submit`` is the rule for one response arriving from a
person; this module is for data that already exists in bulk (the demo at
scale, benchmarks, large imports) and would take hours row by row. It writes
the same rows the ORM would — same columns, the answers packed in the row
(``surveys.packing``), same constraints checked by the database (a staff row
still cannot carry an invitation, an account or a time) — only through
PostgreSQL's ``COPY … FROM STDIN``.

Callers validate; this module does not. Rows are written in the caller's
transaction, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from django.db import connection, transaction

from surveys import packing
from surveys.models import Invitation, InvitationUse, SurveyResponse

Progress = Callable[[int], None] | None


@dataclass
class BulkResponse:
    """One response and its answers (item id → value, None for N/A), as the ORM would store them."""

    wave_id: int
    side: str
    answers: Sequence[tuple[int, int | None]]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    language: str = "ja"
    channel: str = "import"
    segments: dict = field(default_factory=dict)
    weight: float | None = None
    comment: str = ""
    submitted_on: date | None = None
    submitted_at: datetime | None = None
    invitation_id: int | None = None
    customer_account_id: int | None = None
    served_department: str = ""  # internal waves only (surveys/internal.py); "" elsewhere


_RESPONSE_COLUMNS = ("id", "wave_id", "side", "language", "channel", "segments", "weight", "comment",
                     "submitted_on", "submitted_at", "invitation_id", "customer_account_id", "served_department",
                     "answers_packed")


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def responses_bulk_load(rows: Iterable[BulkResponse], *, batch_size: int = 20_000, progress: Progress = None,
                        rebuild_indexes: bool = False) -> int:
    """Insert responses with their answers (packed in each row, ``surveys.packing``); returns how many.

    On PostgreSQL each batch is one COPY of response rows, in one transaction: a failure anywhere leaves
    nothing. The wave's data version moves by the response table's statement triggers (reports/0002, 0006).

    ``rebuild_indexes`` is the mode for loading millions of rows into a quiet database, never a live one: it
    locks the response table until it commits. The table's foreign keys and secondary indexes are dropped for
    the load and made again afterwards (one sort and one validating pass each instead of a check and random
    index writes per row). Without it, the database checks and indexes each row as it arrives.
    On other databases the ORM's ``bulk_create`` does the same work.
    """
    if connection.vendor != "postgresql":
        return _orm_load(rows, batch_size=min(batch_size, 2000), progress=progress)
    with transaction.atomic():
        saved = _drop_extras() if rebuild_indexes else None
        total = 0
        with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
            raw = cursor.cursor  # psycopg 3 cursor: COPY needs it
            # Two batches in flight: this thread reads the rows and packs the next batch while a second one
            # sends the previous batch and waits for PostgreSQL to store it (the waiting releases the
            # interpreter lock; the connection is used by one thread at a time).
            pending: tuple[Future, int] | None = None
            for batch in _batches(rows, batch_size):
                prepared = _response_rows(batch)
                if pending is not None:
                    total += _finished(pending, progress)
                pending = (pool.submit(_copy_responses, raw, prepared), len(batch))
            if pending is not None:
                total += _finished(pending, progress)
        if saved is not None:
            _restore_extras(saved)
    return total


def _finished(pending: tuple[Future, int], progress: Progress) -> int:
    future, n = pending
    future.result()  # the batch's COPY error, if any, raised here
    if progress:
        progress(n)
    return n


def _response_rows(batch: list[BulkResponse]) -> list[tuple]:
    return [(r.id, r.wave_id, r.side, r.language, r.channel,
             json.dumps(r.segments, ensure_ascii=False, separators=(",", ":")), r.weight, r.comment,
             r.submitted_on or date.today(), r.submitted_at, r.invitation_id, r.customer_account_id,
             r.served_department, packing.pack(r.answers)) for r in batch]


def _copy_responses(raw, rows: list[tuple]) -> None:
    table = SurveyResponse._meta.db_table
    with raw.copy(f"COPY {table} ({', '.join(_RESPONSE_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _orm_load(rows: Iterable[BulkResponse], *, batch_size: int, progress: Progress) -> int:
    total = 0
    with transaction.atomic():
        for batch in _batches(rows, batch_size):
            SurveyResponse.objects.bulk_create([
                SurveyResponse(**{c: getattr(r, c) for c in _RESPONSE_COLUMNS
                                  if c not in ("submitted_on", "answers_packed")},
                               submitted_on=r.submitted_on or date.today(), answers_packed=packing.pack(r.answers))
                for r in batch
            ])
            total += len(batch)
            if progress:
                progress(len(batch))
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
