"""The count tables of a wave: the only thing the gap engine reads from the database about its answers.

One public entry, :func:`wave_counts`. A wave is read in one pass
(:mod:`reports.counts.onepass`, over a binary COPY on PostgreSQL, :mod:`reports.counts.pgcopy`, and
over ORM batches elsewhere, :mod:`reports.counts.rowread`), and kept release by release
(:mod:`reports.counts.kept`); the GROUP BY reader (:mod:`reports.counts.groupby`) is the tests'
reference and reads an internal wave's departments. Either way Python receives count tables, never
answer rows. The model of the tables is :mod:`reports.counts.tables`; the wave's
data version, which keys every cache, is :mod:`reports.counts.version`; the read
on a streaming replica, never older than that version, is :mod:`reports.counts.replica`.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.cache import cache

from reports.counts.groupby import wave_counts_by_queries
from reports.counts.kept import kept_counts
from reports.counts.replica import counts_on_replica
from reports.counts.tables import ACCOUNT_COLUMNS, CHANNEL_KEY, PairMoments, WaveCounts, segment_column, segment_keys
from reports.counts.version import analysis_fingerprint, data_fingerprint, data_version
from surveys.models import Wave

__all__ = ["ACCOUNT_COLUMNS", "CHANNEL_KEY", "PairMoments", "WaveCounts", "analysis_fingerprint", "data_fingerprint",
           "data_version", "department_counts", "keep_up_to_date", "segment_column", "segment_keys",
           "wave_counts", "wave_counts_compute"]


def wave_counts_compute(wave: Wave) -> WaveCounts:
    """Read every count table of the wave now (published responses only) in one pass over its responses:
    a binary COPY on PostgreSQL (:mod:`reports.counts.pgcopy`), batches through the ORM elsewhere
    (:mod:`reports.counts.rowread`)."""
    from reports.counts.onepass import one_pass_counts  # numpy parsing and tallies: loaded when first used

    return one_pass_counts(wave)


def department_counts(wave: Wave, department: str) -> WaveCounts:
    """The count tables of one serving department of an internal wave (its published responses about it).

    Read by the GROUP BY reader on every database and not kept: internal waves are small (a company's
    employees), and the gap result computed from them is cached by :mod:`reports.gap` anyway.
    """
    return wave_counts_by_queries(wave, department=department)


def wave_counts(wave: Wave) -> WaveCounts:
    """The wave's count tables, kept in the cache under its data version until the data change.

    Why the cache pays: any new view of the wave (other filters, languages,
    weighting, the PDF) reuses the tables, so it costs the statistics only. A gap
    request at 100,000 responses took 2.9 s with the tables kept and 7.0 s without
    (bench/caches.py, 2026-12-07: PostgreSQL 15 and Redis, 2 shared AMD EPYC cores
    at load average ~7; 1.4-2.4x over two runs). At a million responses it is
    1.8 s against 8.2 s (make bench, bench/NOTES.md).
    Kept wherever the version is trigger-kept (PostgreSQL; SQLite since the
    triggers of reports.counts.sqlite_version); elsewhere computed per request.
    Behind the cache the tables are also kept in the database, release by release
    (:mod:`reports.counts.kept`), so a new version costs the new releases only, not a scan of the wave.
    """
    version = data_version(wave)
    if version is None:
        return wave_counts_compute(wave)
    # "gapcounts2": the tables gained touchpoint scores; tables kept under the old name lack them.
    segments = hashlib.sha256(json.dumps(segment_keys(wave), sort_keys=True).encode()).hexdigest()[:16]

    def key_at(v: int) -> str:
        return f"gapcounts2:{wave.pk}:{v}:{wave.instrument_id}:{segments}"

    key = key_at(version)
    counts = cache.get(key)
    if counts is None:
        ttl = getattr(settings, "KAGAMI_GAP_COUNTS_CACHE_SECONDS", 7 * 24 * 3600)
        # Kept in the database and brought up to date by reading only the releases made since (reports.counts.kept).
        counts = kept_counts(wave, version)
        if counts is None:
            # On the streaming replica when one is configured and has replayed this version (reports.counts.replica);
            # the tables are kept under the version they were read at, which is never older than the claimed one.
            on_replica = counts_on_replica(wave, version, wave_counts_compute)
            if on_replica is None:
                counts = wave_counts_compute(wave)
            else:
                counts, seen = on_replica
                key = key_at(seen)
        cache.set(key, counts, ttl)
    return counts


def keep_up_to_date(wave: Wave) -> dict | None:
    """Publish what is due and bring the wave's kept count tables up to date now, off any request.

    What ``manage.py keep_counts`` runs after a bulk import (or from a scheduler): the releases it publishes
    are read here, once, so the next analyst's request finds the tables current and reads nothing but them.
    The releases are those any read would have published at this moment (surveys.releases), so running it
    changes when a release happens, never what it holds. Returns what is kept (responses counted and the
    highest release of each side), or None where nothing is kept: an internal wave (read per department and
    not kept) or a database without the version triggers.
    """
    from reports.models import KeptCounts
    from surveys import internal, releases

    if internal.is_internal(wave):
        return None
    releases.publish_due(wave)
    version = data_version(wave)
    if version is None or kept_counts(wave, version) is None:
        return None
    row = KeptCounts.objects.filter(wave=wave).values("responses", "basis").first()
    return None if row is None else {"responses": row["responses"], "basis": row["basis"]}
