"""A wave's count tables kept in the database and brought up to date release by release: no read rescans a wave.

Why it pays: the count tables are sums over respondents (:func:`reports.counts.tables.merge_counts`), and
responses enter them only by releases (disclosure promise P4, :mod:`surveys.releases`), which are numbered
per side and never grow once made. So the tables of the releases up to ``basis`` are kept
(``reports.KeptCounts``), and a read adds only the releases made since: it reads their responses (an index
range on ``(wave, side, release)``) and adds their tables. What a read costs then depends on the new
releases and the size of the tables, not on the size of the wave (bench/RESULTS.md: the cold gap at a
million responses).

Exact, not approximate. The kept tables stay valid while

* the *signature* is the wave's: the format of the tables, the instrument's items as the readers use them
  (kinds, dimensions, modules, reverse keying, scales, touchpoints, retirement) and the segment fields;
* the wave's *reset counter* has not moved. Triggers in the same statement move it on every change to a
  response already counted: a published response (its answers are in its row) updated or deleted
  (reports/0007 on PostgreSQL, :mod:`reports.counts.sqlite_version` on SQLite).

Otherwise the tables are read again from all published responses and kept anew (the one case where a read
scans the wave: after such an edit, and once per wave at the first read). An account's status change —
frequent where a CRM syncs statuses — is not such a case: the same triggers log it (``reports.AccountMove``)
and the next read re-reads only that account's responses and moves them from the status they were counted
under to the new one (:func:`apply_moves`).

Consistency of a read: the highest release of each side is read on the same connection as the responses
and the responses are read up to it (``release <= upto``), so a release committed in between is neither
half-counted nor counted twice; a read on the streaming replica takes both from one snapshot
(:mod:`reports.counts.replica`). Writes of the kept row are serialised by its row lock and happen only if
nobody wrote it since it was read (``revision``): two readers adding the same release keep it once.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zlib

from django.db import IntegrityError, connection, connections, router, transaction
from django.utils import timezone

from reports.counts.replica import counts_on_replica
from reports.counts.sqlite_version import RESET_PREFIX, RESET_SHARD
from reports.counts.sqlite_version import installed as sqlite_installed
from reports.counts.tables import (
    ReleaseSpan,
    WaveCounts,
    accounts_from_sums,
    merge_counts,
    status_part,
    table_segment_keys,
)
from reports.counts.version import data_version
from surveys.models import CustomerAccount, ItemPair, Side, SurveyResponse, Wave

#: The format of the stored tables; a change here retires every kept row (it is part of the signature).
#: 2: the pickle compressed with zlib (level 1) before it is stored.
FORMAT = 2
_SIDES = (Side.STAFF, Side.CUSTOMER)
_PG_RESET_TRIGGERS = 3  # reports/0007: a published response updated, deleted; an account's status moved


def installed() -> bool:
    """Whether the reset counter is trigger-kept on this database (else nothing is kept)."""
    if connection.vendor == "sqlite":
        return sqlite_installed(connection)
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE %s", [f"{RESET_PREFIX}%"])
        return cursor.fetchone()[0] >= _PG_RESET_TRIGGERS


def signature(wave: Wave) -> str:
    """Everything besides the responses that the kept tables depend on, hashed."""
    items = list(ItemPair.objects.filter(instrument_id=wave.instrument_id).order_by("id").values_list(
        "id", "kind", "dimension_id", "dimension__module", "reverse_keyed", "scale_points", "allow_na",
        "touchpoint", "retired_at"))
    shown = [FORMAT, wave.instrument_id, table_segment_keys(wave), list(CustomerAccount.Status.values),
             [[*row[:-1], row[-1] is None] for row in items]]
    return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()


def resets(wave: Wave) -> int:
    """The wave's reset counter (0 before any reset)."""
    from reports.models import WaveVersionShard

    row = WaveVersionShard.objects.filter(wave_id=wave.pk, shard=RESET_SHARD).values_list("version", flat=True).first()
    return int(row or 0)


def high_water(wave: Wave) -> dict[str, int]:
    """The highest release of each side, read where the responses are read (two index lookups)."""
    conn = connections[router.db_for_read(SurveyResponse)]
    out = {}
    with conn.cursor() as cursor:
        for side in _SIDES:
            cursor.execute(f"SELECT max(release) FROM {SurveyResponse._meta.db_table} "
                           "WHERE wave_id = %s AND side = %s AND release IS NOT NULL", [wave.pk, side])
            out[side] = int(cursor.fetchone()[0] or 0)
    return out


def read_span(wave: Wave, span: ReleaseSpan) -> WaveCounts:
    """The count tables of the responses of ``span``, in one pass (:mod:`reports.counts.onepass`)."""
    from reports.counts.onepass import one_pass_counts  # numpy parsing and tallies: loaded when first used

    return one_pass_counts(wave, span)


def last_move(wave: Wave) -> int:
    """The id of the organisation's last logged account status change (0: none)."""
    from reports.models import AccountMove

    return int(AccountMove.objects.filter(organization_id=wave.organization_id).order_by("-id")
               .values_list("id", flat=True).first() or 0)


def apply_moves(wave: Wave, base: WaveCounts, basis: dict[str, int], seen: int, upto: int) -> WaveCounts:
    """``base`` (the tables of the releases up to ``basis``, with account statuses as of move ``seen``) with
    the organisation's status changes ``seen < id <= upto`` applied: each moved account's responses read
    again (only theirs) and moved from the status they were counted under to the one they have now."""
    from reports.models import AccountMove

    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for account, old, new in (AccountMove.objects.filter(organization_id=wave.organization_id, id__gt=seen,
                                                         id__lte=upto).order_by("id")
                              .values_list("account_id", "old_status", "new_status")):
        first.setdefault(account, old)
        last[account] = new
    pairs: dict[tuple[str, str], list[int]] = {}
    for account, old in first.items():
        if old != last[account]:
            pairs.setdefault((old, last[account]), []).append(account)
    for (old, _new), accounts in sorted(pairs.items()):
        part = read_span(wave, ReleaseSpan(after=dict.fromkeys(_SIDES, 0), upto=basis, accounts=tuple(accounts)))
        base = merge_counts(merge_counts(base, status_part(part, old, -1)), status_part(part))
    return base


def kept_counts(wave: Wave, version: int) -> WaveCounts | None:
    """The wave's count tables: the kept ones plus the releases made since and the account status changes
    since (then kept); None where nothing is kept on this database (no triggers): the caller reads the wave."""
    from reports.models import KeptCounts

    if not installed():
        return None
    sig, reset, moves = signature(wave), resets(wave), last_move(wave)
    # The claim a replica must meet, read after the moves: a replica that has it has replayed every move
    # counted as seen (a status change moves the data version too).
    version = max(version, data_version(wave) or 0)
    row = KeptCounts.objects.filter(wave=wave).first()
    base: WaveCounts | None = None
    after = dict.fromkeys(_SIDES, 0)
    if row is not None and row.signature == sig and row.resets == reset:
        base = _unpack(bytes(row.tables))
        after = {side: int(row.basis.get(side, 0)) for side in _SIDES}
        if row.moves_seen < moves:
            base = apply_moves(wave, base, after, row.moves_seen, moves)

    def read(w: Wave) -> tuple[WaveCounts | None, dict[str, int]]:
        # A replica behind the kept basis has nothing newer to give: the span is empty, the basis stays.
        upto = {side: max(n, after[side]) for side, n in high_water(w).items()}
        span = ReleaseSpan(after=after, upto=upto)
        if base is not None and span.empty():
            return None, upto
        return read_span(w, span), upto

    on_replica = counts_on_replica(wave, version, read)
    partial, upto = read(wave) if on_replica is None else on_replica[0]
    counts = base if partial is None else partial if base is None else merge_counts(base, partial)
    if partial is None:
        counts.accounts = accounts_from_sums(counts.account_sums)  # the health changes without a release
    if last_move(wave) != moves:
        # A status changed while we read: what was read may carry it or not. Shown, not kept.
        return counts
    if partial is None and row.moves_seen == moves:
        return counts  # nothing new to keep
    _keep(wave, row, counts, upto, sig, reset, moves)
    return counts


def _pack(counts: WaveCounts) -> bytes:
    """The tables as stored: pickled, then compressed with zlib at its fastest level.

    Why compress here: the pickle is mostly repeated segment labels (23 MB at a million responses) and
    shrinks about twelvefold in a tenth of a second, where PostgreSQL's own TOAST compression (pglz) took
    seconds on every write and its decompression most of the row's read (bench/NOTES.md); a compressed
    value is stored as it is (pglz gives up on it at once), and SQLite stores a tenth of the bytes too.
    """
    return zlib.compress(pickle.dumps(counts, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _unpack(blob: bytes) -> WaveCounts:
    # Written by this module only (_pack), in the database it trusts.
    return pickle.loads(zlib.decompress(blob))


def _keep(wave: Wave, read_row, counts: WaveCounts, basis: dict[str, int], sig: str, reset: int,
          moves: int) -> None:
    """Write the tables unless someone wrote the row since it was read (their basis is as good as ours)."""
    from reports.models import KeptCounts

    blob = _pack(counts)
    fields = {"basis": basis, "signature": sig, "resets": reset, "moves_seen": moves, "tables": blob,
              "responses": int(counts.responses.n.sum()) if len(counts.responses) else 0}
    try:
        with transaction.atomic():
            current = (KeptCounts.objects.select_for_update().filter(wave=wave)
                       .values_list("revision", flat=True).first())
            if current is None:
                if read_row is None:
                    KeptCounts.objects.create(wave=wave, revision=1, **fields)
            elif read_row is not None and current == read_row.revision:
                KeptCounts.objects.filter(wave=wave).update(revision=current + 1, updated_at=timezone.now(), **fields)
    except IntegrityError:  # another reader created the row first: theirs stands
        pass
