"""Bulk loading of responses and answers: PostgreSQL COPY, with an ORM fallback for SQLite.

``services.response_submit`` is the rule for one response arriving from a
person; this module is for data that already exists in bulk (the demo at
scale, benchmarks, large imports) and would take hours row by row. It writes
the same rows the ORM would — same columns, same constraints checked by the
database (a staff row still cannot carry an invitation, an account or a time)
— only through PostgreSQL's ``COPY … FROM STDIN``.

Callers validate; this module does not. Rows are written in the caller's
transaction, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from django.db import connection, transaction

from surveys.models import Answer, Invitation, InvitationUse, SurveyResponse

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
                     "submitted_on", "submitted_at", "invitation_id", "customer_account_id", "served_department")


_NULL = "\\N"  # COPY text format's NULL
# Kept by the PostgreSQL triggers of reports/0002, 0003 and 0006 (written here by the quiet-database mode
# only, which switches the answer table's triggers off); named, not imported: reports depends on surveys.
_VECTOR_TABLE = "reports_answervector"
_VERSION_TABLE = "reports_waveversionshard"
_ANSWER_TRIGGERS = ("kagami_vector_ins", "kagami_version_ins")


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def responses_bulk_load(rows: Iterable[BulkResponse], *, batch_size: int = 20_000, progress: Progress = None,
                        rebuild_answer_indexes: bool = False) -> int:
    """Insert responses with their answers; returns the number of responses written.

    On PostgreSQL each batch is COPY statements, in one transaction: a failure anywhere leaves nothing.
    The answer vectors and the wave's data version end as the triggers of migrations reports/0002 and
    reports/0003 leave them.

    ``rebuild_answer_indexes`` is the mode for loading millions of rows into a quiet database, never a live
    one: it locks the response and answer tables until it commits. The answer table's foreign keys, unique
    constraint and secondary indexes are dropped for the load and re-created afterwards (one sort and one
    validating pass each instead of a check per row), the response table's foreign keys likewise, and the
    answer table's statement triggers are switched off for the transaction: the loader writes the packed
    vectors itself (``pack_answers``, byte for byte what the trigger computes) and moves each touched wave's
    data version once at the end. Nobody else can write answers meanwhile (the table is locked), so no
    write escapes the triggers. Without it, the triggers and per-row constraint checks do that work.
    On other databases the ORM's ``bulk_create`` does the same work.
    """
    if connection.vendor != "postgresql":
        return _orm_load(rows, batch_size=min(batch_size, 2000), progress=progress)
    with transaction.atomic():
        saved = _drop_extras() if rebuild_answer_indexes else None
        total = 0
        waves: set[int] = set()
        with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
            raw = cursor.cursor  # psycopg 3 cursor: COPY needs it
            # Two batches in flight: this thread reads the rows and builds the next batch's text while a
            # second one sends the previous batch and waits for PostgreSQL to store it (the waiting releases
            # the interpreter lock; the connection is used by one thread at a time).
            pending: tuple[Future, int] | None = None
            for batch in _batches(rows, batch_size):
                answers = _answers_text(batch)
                vectors = _vectors_text(batch) if saved is not None else None
                if saved is not None:
                    waves.update(r.wave_id for r in batch)
                if pending is not None:
                    total += _finished(pending, progress)
                pending = (pool.submit(_copy_batch, raw, batch, answers, vectors), len(batch))
            if pending is not None:
                total += _finished(pending, progress)
        if saved is not None:
            _restore_extras(saved)
            _bump_versions(sorted(waves))
    return total


def _finished(pending: tuple[Future, int], progress: Progress) -> int:
    future, n = pending
    future.result()  # the batch's COPY error, if any, raised here
    if progress:
        progress(n)
    return n


def _copy_batch(raw, batch: list[BulkResponse], answers: str, vectors: str | None) -> None:
    _copy_responses(raw, batch)
    with raw.copy(f"COPY {Answer._meta.db_table} (response_id, item_id, value) FROM STDIN") as copy:
        copy.write(answers)
    if vectors is not None:
        with raw.copy(f"COPY {_VECTOR_TABLE} (response_id, wave_id, packed) FROM STDIN") as copy:
            copy.write(vectors)


def _copy_responses(raw, batch: list[BulkResponse]) -> None:
    table = SurveyResponse._meta.db_table
    cols = ", ".join(_RESPONSE_COLUMNS)
    with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for r in batch:
            copy.write_row((
                r.id, r.wave_id, r.side, r.language, r.channel,
                json.dumps(r.segments, ensure_ascii=False, separators=(",", ":")), r.weight, r.comment,
                r.submitted_on or date.today(), r.submitted_at, r.invitation_id, r.customer_account_id,
                r.served_department,
            ))


def _answers_text(batch: list[BulkResponse]) -> str:
    # One text block: ~3x faster than write_row for millions of three-number rows.
    lines = []
    for r in batch:
        rid = str(r.id)
        lines.extend(f"{rid}\t{item}\t{_NULL if value is None else int(value)}\n" for item, value in r.answers)
    return "".join(lines)


def pack_answers(answers: Iterable[tuple[int, int | None]]) -> bytes:
    """A response's packed answer vector: for each answer in item-id order, the item id as a 4-byte and the
    value as a 2-byte big-endian integer (-1 for N/A) — what the trigger of reports/0003 builds with
    ``int4send`` and ``int2send`` (``reports.models.AnswerVector``)."""
    ordered = sorted(answers, key=lambda a: a[0])
    return struct.pack(">" + "ih" * len(ordered),
                       *[x for item, value in ordered for x in (item, -1 if value is None else value)])


def _vectors_text(batch: list[BulkResponse]) -> str:
    # As the trigger: a vector for each response that has answers (a response without any gets none).
    return "".join(f"{r.id}\t{r.wave_id}\t\\\\x{pack_answers(r.answers).hex()}\n" for r in batch if r.answers)


def _bump_versions(wave_ids: list[int]) -> None:
    """Move each wave's data version once, as the answer table's statement trigger does (reports/0006)."""
    if not wave_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_VERSION_TABLE} (wave_id, shard, version) "
            "SELECT w, (txid_current() %% 16)::smallint, 1 FROM unnest(%s::bigint[]) AS w ORDER BY w "
            f"ON CONFLICT (wave_id, shard) DO UPDATE SET version = {_VERSION_TABLE}.version + 1", [wave_ids])


def _orm_load(rows: Iterable[BulkResponse], *, batch_size: int, progress: Progress) -> int:
    total = 0
    with transaction.atomic():
        for batch in _batches(rows, batch_size):
            SurveyResponse.objects.bulk_create([
                SurveyResponse(**{c: getattr(r, c) for c in _RESPONSE_COLUMNS if c != "submitted_on"},
                               submitted_on=r.submitted_on or date.today())
                for r in batch
            ])
            Answer.objects.bulk_create(
                [Answer(response_id=r.id, item_id=item, value=value) for r in batch for item, value in r.answers],
                batch_size=5000,
            )
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
    constraints: list[tuple[str, str, str]]  # table, name, definition
    indexes: list[str]


def _drop_extras() -> _Extras:
    """Drop what makes each answer row cost a check or a random index write; switch the answer triggers off."""
    answers, responses = Answer._meta.db_table, SurveyResponse._meta.db_table
    constraints = []
    with connection.cursor() as cursor:
        for table, kinds in ((answers, ("f", "u")), (responses, ("f",))):
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = ANY(%s) ORDER BY contype, conname", [table, list(kinds)])
            constraints += [(table, name, definition) for name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary", [answers])
        found = list(cursor.fetchall())
        # Foreign keys first: the answer table's unique constraint may back none of them, but the order keeps
        # every DROP valid whatever the schema grows.
        for table, name, _ in sorted(constraints, key=lambda c: c[2].startswith("UNIQUE")):
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in found:
            cursor.execute(f"DROP INDEX {name}")
        for trigger in _ANSWER_TRIGGERS:
            cursor.execute(f"ALTER TABLE {answers} DISABLE TRIGGER {trigger}")
    return _Extras(constraints=constraints, indexes=[d for _, d in found])


def _restore_extras(saved: _Extras) -> None:
    answers = Answer._meta.db_table
    with connection.cursor() as cursor:
        for trigger in _ANSWER_TRIGGERS:
            cursor.execute(f"ALTER TABLE {answers} ENABLE TRIGGER {trigger}")
        # The unique constraint before the foreign keys, the indexes after: each is one sort or one join.
        for table, name, definition in sorted(saved.constraints, key=lambda c: not c[2].startswith("UNIQUE")):
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for definition in saved.indexes:
            cursor.execute(definition)
