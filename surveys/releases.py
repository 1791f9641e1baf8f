"""Releases (disclosure promise P4): a side's results change only when at least k new responses are published.

Every reader of response data calls :func:`publish_due` first and then reads
only published responses (``SurveyResponse.release`` set). Publishing stamps
every waiting response in one ``UPDATE … WHERE release IS NULL`` under a lock
of the wave's row, so a response whose transaction commits later simply waits
for the next release: no release ever grows after it was made. Whether one is
due is decided by :func:`surveys.disclosure.release_due`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from surveys import disclosure, internal
from surveys.models import Release, Side, SurveyResponse, Wave, WaveStatus


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
    if disclosure.release_due(pending=_waiting(pending, k), k=k).due:
        with transaction.atomic():
            # FOR NO KEY UPDATE: publishers queue behind each other, while the foreign-key checks of posts
            # arriving meanwhile (FOR KEY SHARE on the wave) go on; FOR UPDATE deadlocked with them.
            Wave.objects.select_for_update(no_key=True).filter(pk=wave.pk).values_list("pk", flat=True).first()
            # Counted again under the lock: another reader may have published meanwhile. The UPDATE
            # stamps what is committed now (at least the k counted); later commits wait for the next one.
            if disclosure.release_due(pending=_waiting(pending, k), k=k).due:
                last = Release.objects.filter(wave=wave, side=side).aggregate(n=Max("number"))
                total = Release.objects.filter(wave=wave, side=side, served_department=department).aggregate(
                    t=Max("n_total"))
                number = (last["n"] or 0) + 1
                stamped = pending.update(release=number)
                Release.objects.create(wave=wave, side=side, number=number, n_added=stamped,
                                       n_total=(total["t"] or 0) + stamped, served_department=department,
                                       at_close=wave.status == WaveStatus.CLOSED, created_at=timezone.now())
    current = Release.objects.filter(wave=wave, side=side, served_department=department).order_by("-number").first()
    return ReleaseInfo(side=side, number=current.number if current else 0,
                       published_at=current.created_at.isoformat() if current else None,
                       n_published=current.n_total if current else 0, k=k,
                       wave_open=wave.status == WaveStatus.OPEN)


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
