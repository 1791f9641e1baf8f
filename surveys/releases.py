"""Releases (disclosure promise P4): a side's results change only when at least k new responses are published.

Every reader of response data calls :func:`publish_due` first and then reads
only published responses (``SurveyResponse.release`` set). Publishing stamps
every waiting response in one ``UPDATE … WHERE release IS NULL`` under a lock
of the wave's row, so a response whose transaction commits later simply waits
for the next release: no release ever grows after it was made. Whether one is
due is decided by :func:`surveys.disclosure.release_due`, which counts posted and imported responses
apart: imported ones (whose answers the importer may know) never make up the k of a posted answer's release.

A bulk load forms its own releases instead (:class:`ImportReleases`): its rows are written already stamped
with the number of the release they will make, so publishing them rewrites nothing (an ``UPDATE`` of every
row of a 10M import took 632 s, bench/NOTES.md). Such a release holds only the import's rows; responses
already waiting stay waiting for the next release as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from surveys import disclosure, internal, wave_locks
from surveys.models import Channel, Release, Side, SurveyResponse, Wave, WaveStatus


def threshold(wave: Wave, side: str) -> int:
    """The wave's k for a side: the anonymity threshold for staff, the customer threshold for customers
    (for an internal wave's employees never below :data:`surveys.internal.MIN_EMPLOYEE_THRESHOLD`)."""
    if side == Side.STAFF:
        return int(wave.anonymity_threshold)
    if internal.protected_side(wave, side):
        return max(int(wave.customer_threshold), internal.MIN_EMPLOYEE_THRESHOLD)
    return int(wave.customer_threshold)


@dataclass(frozen=True)
class ReleaseInfo:
    """What a reader may say about the release it shows (never how many responses are waiting)."""

    side: str
    number: int  # 0: nothing published yet
    published_at: str | None  # ISO time of the release shown
    n_published: int
    k: int
    wave_open: bool

    def as_dict(self) -> dict:
        if self.wave_open:
            next_release = (f"when at least {self.k} more responses have arrived; responses that arrive "
                            f"after the wave closes' last release are not shown if fewer than {self.k}")
        else:
            next_release = None
        return {"number": self.number, "published_at": self.published_at, "next": next_release}


def publish_due(wave: Wave, department: str | None = None) -> dict[str, ReleaseInfo]:
    """Publish each side's waiting responses if at least k are waiting; the current release of each side.

    An internal wave releases per serving department: a department's rows are published when at least k of
    them wait (one person has at most one row per department, so that is k people), and ``department``
    names the department whose current release is returned.
    """
    if internal.is_internal(wave):
        keys = internal.department_keys(wave)
        for side in (Side.STAFF, Side.CUSTOMER):
            for key in keys:
                _publish_side(wave, side, key)
        return {side: _publish_side(wave, side, department or "") for side in (Side.STAFF, Side.CUSTOMER)}
    return {side: _publish_side(wave, side) for side in (Side.STAFF, Side.CUSTOMER)}


def _publish_side(wave: Wave, side: str, department: str = "") -> ReleaseInfo:
    k = threshold(wave, side)
    pending = SurveyResponse.objects.filter(wave=wave, side=side, release__isnull=True,
                                            served_department=department)
    if _decision(pending, k).due:
        with transaction.atomic():
            # Counted again under the lock: another reader may have published meanwhile. The UPDATE
            # stamps what is committed now (at least the k counted); later commits wait for the next one.
            decision = _decision(pending, k) if _lock_for_publishing(wave) else None
            if decision is not None and decision.due:
                number = _next_number(wave.pk, side)
                stamped = (pending.filter(channel=Channel.IMPORT) if decision.imported_only
                           else pending).update(release=number)
                _record(wave, side, number, stamped, department)
    current = Release.objects.filter(wave=wave, side=side, served_department=department).order_by("-number").first()
    return ReleaseInfo(side=side, number=current.number if current else 0,
                       published_at=current.created_at.isoformat() if current else None,
                       n_published=current.n_total if current else 0, k=k,
                       wave_open=wave.status == WaveStatus.OPEN)


# How long a reader waits for the wave's lock before showing the current release instead. Publishers hold it
# for milliseconds, and readers arriving together still queue behind the one publishing and show the release
# it made (one data version, so one report job for them all: tests/security/test_concurrency.py). A bulk load
# holds it until it commits (ImportReleases: minutes for millions of rows), which no request may wait out; the
# first read after the load's commit publishes what waited meanwhile. SKIP LOCKED instead would let a reader
# show the release before the one being published at that moment.
LOCK_WAIT_MS = 1000


def _lock_for_publishing(wave: Wave) -> bool:
    """Lock the wave's row as publishers do (in the caller's transaction); False if another transaction kept
    it locked for longer than :data:`LOCK_WAIT_MS`."""
    # FOR NO KEY UPDATE: publishers queue behind each other, while the foreign-key checks of posts arriving
    # meanwhile (FOR KEY SHARE on the wave) go on; FOR UPDATE deadlocked with them.
    return wave_locks.lock_wave(wave.pk, wait_ms=LOCK_WAIT_MS)


def _next_number(wave_id: int, side: str) -> int:
    """The number of a side's next release (under the wave's lock): numbers run across departments."""
    return (Release.objects.filter(wave_id=wave_id, side=side).aggregate(n=Max("number"))["n"] or 0) + 1


def _record(wave: Wave, side: str, number: int, added: int, department: str = "") -> Release:
    """The Release row of ``added`` responses stamped with ``number`` (under the wave's lock)."""
    total = Release.objects.filter(wave=wave, side=side, served_department=department).aggregate(t=Max("n_total"))
    return Release.objects.create(wave=wave, side=side, number=number, n_added=added,
                                  n_total=(total["t"] or 0) + added, served_department=department,
                                  at_close=wave.status == WaveStatus.CLOSED, created_at=timezone.now())


def _decision(pending, k: int) -> disclosure.ReleaseDecision:
    """The release decision for the waiting responses ``pending``: posted and imported ones counted apart
    (:func:`surveys.disclosure.release_due`), each up to k; fewer than k waiting in all is decided at once."""
    waiting = _waiting(pending, k)
    if waiting < k:
        return disclosure.release_due(pending=waiting, k=k)
    return disclosure.release_due(pending=_waiting(pending.exclude(channel=Channel.IMPORT), k), k=k,
                                  imported=_waiting(pending.filter(channel=Channel.IMPORT), k))


def _waiting(pending, k: int) -> int:
    """How many responses wait, counted up to k: all a release decision needs (P4: at least k).

    Every read of a wave asks this. Read as the first k rows in the order of the ``(wave, side, release)``
    index, so PostgreSQL walks the index and stops, whatever its estimates: a plain ``count()`` was planned
    from the table's share of unreleased rows (a bulk load waiting in another wave) as a parallel scan, whose
    workers' start cost 150-750 ms on every read of a loaded machine (make bench, 2026-12-07), and a capped
    count without the order as a sequential scan (13 s).
    """
    return len(pending.order_by("wave_id", "side", "release").values_list("pk", flat=True)[:max(k, 1)])


def published(queryset):
    """Only the published responses of a queryset of responses."""
    return queryset.filter(release__isnull=False)


@dataclass
class _Pair:
    wave: Wave
    side: str
    k: int
    number: int | None = None  # the release reserved once at least k of the import's rows are known
    n: int = 0  # the import's rows of this wave and side so far
    early: list = field(default_factory=list)  # ids of rows written waiting before the number was reserved


class ImportReleases:
    """The releases a bulk load forms of its own rows (``surveys.bulk.responses_bulk_load``), in its transaction.

    The loader asks :meth:`stamp` for each batch's rows of a wave and side before writing them, and calls
    :meth:`settle` after the last. Once the import's rows of a wave and side reach k
    (:func:`surveys.disclosure.release_due`), the wave's row is locked as a publisher locks it and the side's
    next release number is reserved; those rows and every later one of the pair are written with it, and
    :meth:`settle` makes the ``Release``. The few rows (fewer than k) written before the number was known are
    stamped then by their ids — an ``UPDATE`` of rows still waiting, which the kept tables' reset triggers
    ignore (reports/0007). A pair that never reaches k is written waiting (release NULL) and decided by
    :func:`publish_due` with the other waiting responses, as before. Rows were never stamped and set back: that
    would move the kept tables' reset counter and retire them.

    The release holds only the import's rows: responses waiting from posts are not in it (P4: an import of k
    rows cannot pad a release with a colleague's posted answer). The lock is held until the load commits;
    readers meanwhile wait at most :data:`LOCK_WAIT_MS` for it and then show the current release. Internal
    waves, released per department, are written waiting.
    """

    def __init__(self) -> None:
        self._pairs: dict[tuple[int, str], _Pair | None] = {}

    def asks_database(self, wave_id: int, side: str, count: int) -> bool:
        """Whether :meth:`stamp` for these rows would query the database (the loader then lets its COPY
        in flight finish first: one connection, used by one thread at a time)."""
        key = (int(wave_id), str(side))
        if key not in self._pairs:
            return True
        pair = self._pairs[key]
        return pair is not None and pair.number is None and disclosure.release_due(
            pending=0, imported=pair.n + count, k=pair.k).due

    def stamp(self, wave_id: int, side: str, count: int, ids: Callable[[], Iterable]) -> int | None:
        """The release number to write on ``count`` more rows of the wave and side, or None (written waiting,
        and then ``ids()`` — their primary keys — is called and kept, fewer than k)."""
        key = (int(wave_id), str(side))
        if key not in self._pairs:
            wave = Wave.objects.get(pk=key[0])
            self._pairs[key] = None if internal.is_internal(wave) else _Pair(wave=wave, side=key[1],
                                                                            k=threshold(wave, key[1]))
        pair = self._pairs[key]
        if pair is None:
            return None
        if pair.number is None and disclosure.release_due(pending=0, imported=pair.n + count, k=pair.k).due:
            # As _publish_side: the wave's row locked (FOR NO KEY UPDATE, waiting for another publisher or
            # import), re-read under the lock for its status, and the number taken under it.
            pair.wave = Wave.objects.select_for_update(no_key=True).get(pk=key[0])
            pair.number = _next_number(key[0], pair.side)
        pair.n += count
        if pair.number is None:
            pair.early.extend(ids())
        return pair.number

    def settle(self) -> list[Release]:
        """The import's releases (a pair below k made none: its rows wait). Call before the load commits."""
        made = []
        for pair in self._pairs.values():
            if pair is None or pair.number is None:
                continue
            if pair.early:
                stamped = SurveyResponse.objects.filter(pk__in=pair.early, release__isnull=True).update(
                    release=pair.number)
                if stamped != len(pair.early):  # published by someone else in this transaction: never mix
                    raise RuntimeError(f"{len(pair.early) - stamped} imported responses of wave {pair.wave.pk} "
                                       f"({pair.side}) were published before the import's release was made")
            made.append(_record(pair.wave, pair.side, pair.number, pair.n))
        return made
