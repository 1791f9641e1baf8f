"""A wave's data version: the one answer to "have this wave's responses changed?", for every cache.

Triggers keep a change counter per wave (``reports.WaveVersionShard``): on PostgreSQL in shards
(migrations ``reports/0002``, ``0004``, ``0006``; the version is the sum of the wave's shards, one index range
scan), on SQLite in one shard (:mod:`reports.counts.sqlite_version`). Where no trigger keeps it, a fingerprint
is hashed from aggregates over the wave's responses and their answers.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection, connections
from django.db.models import Count, F, IntegerField, Max, Sum, Value
from django.db.models.functions import Cast, Coalesce

from surveys.models import Answer, CustomerAccount, Invitation, SurveyResponse, Touchpoint, Wave


def data_version(wave: Wave) -> int | None:
    """The wave's trigger-kept change counter, the sum of its shards (``reports.WaveVersionShard``); None where
    no trigger keeps it. Every committed change raises the sum, so a value names one committed state."""
    if connection.vendor == "sqlite":
        return _sqlite_version(wave)
    if connection.vendor != "postgresql":
        return None
    # Whether the triggers are installed is asked with the lookup, in one round trip, not remembered per
    # process: remembering saved 0.1-0.4 ms of CPU per call (bench/caches.py, 2026-12-07, PostgreSQL 15 on
    # 2 shared cores) against 20 ms for the cheapest gap request, within noise, so that cache was dropped.
    # 7 triggers: responses (which carry their answers) and accounts (reports/0002: 5 of its 8 left by 0008),
    # invitations (reports/0004: 2).
    from reports.models import WaveVersionShard

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'kagami_version_%%') >= 7, "
            f"(SELECT sum(version) FROM {connection.ops.quote_name(WaveVersionShard._meta.db_table)} "
            "WHERE wave_id = %s)", [wave.pk])
        installed, version = cursor.fetchone()
    if not installed:
        return None
    return version or 0


def _sqlite_version(wave: Wave) -> int | None:
    # The triggers of reports.counts.sqlite_version; asked with the lookup, like PostgreSQL's, since a schema
    # change after the last migrate may have dropped them (then: None, and callers scan).
    from reports.counts import sqlite_version

    if not sqlite_version.installed(connection):
        return None
    return _shard_sum(wave, connection)


def _shard_sum(wave: Wave, conn) -> int:
    from reports.models import WaveVersionShard

    with conn.cursor() as cursor:
        cursor.execute(f"SELECT sum(version) FROM {conn.ops.quote_name(WaveVersionShard._meta.db_table)} "
                       "WHERE wave_id = %s", [wave.pk])
        row = cursor.fetchone()
    return (row[0] if row else None) or 0


def version_on(wave: Wave, alias: str) -> int:
    """The wave's data version as the database ``alias`` has it (a replica: as far as it has replayed)."""
    return _shard_sum(wave, connections[alias])


def data_fingerprint(wave: Wave) -> str:
    """Changes whenever the wave's data change (responses, answers, invitations, its organisation's accounts).

    Where triggers keep it (PostgreSQL, SQLite), the change counter (one index lookup);
    elsewhere a hash of aggregates over the same tables.
    """
    version = data_version(wave)
    if version is not None:
        return f"{wave.pk}:v{version}:{wave.instrument_id}"
    agg = SurveyResponse.objects.filter(wave=wave).aggregate(
        n=Count("id"), last=Max("submitted_on"), w=Sum(Coalesce(F("weight"), Value(0.0))),
        published=Count("release"), release=Sum("release"),
    )
    answers = Answer.objects.filter(response__wave=wave).aggregate(  # the view of the packed answers
        n=Count("id"), s=Sum(Coalesce(Cast("value", IntegerField()), Value(-1)))
    )
    invitations = Invitation.objects.filter(wave=wave).aggregate(n=Count("id"), last=Max("id"))
    # Per status: how many accounts, and sums keyed by their ids, so that a status moving from one account to
    # another, or a health score changing, changes the fingerprint (the churn and health sections read both).
    accounts = list(CustomerAccount.objects.filter(organization_id=wave.organization_id)
                    .values_list("status").order_by("status")
                    .annotate(n=Count("id"), ids=Sum("id"),
                              health=Sum(F("id") * (Coalesce(F("health_score"), Value(-1)) + 2))))
    return (f"{wave.pk}:{agg['n']}:{agg['last']}:{agg['w']}:{agg['published']}:{agg['release']}:"
            f"{answers['n']}:{answers['s']}:{invitations['n']}:{invitations['last']}:{accounts}:{wave.instrument_id}")


def analysis_fingerprint(wave: Wave) -> str:
    """Changes whenever anything a gap analysis of the wave shows changes: its data (:func:`data_fingerprint`)
    and the settings and names it prints or groups by (thresholds, segment fields, the organisation's names).

    The one key under which analyses are cached (the gap API, the web mirror).
    """
    org = wave.organization
    shown = [wave.name, wave.slug, wave.status, str(wave.opens_on), str(wave.closes_on), wave.anonymity_threshold,
             wave.customer_threshold, wave.staff_segment_fields, wave.customer_segment_fields, wave.previous_wave_id,
             org.name, org.display_name_ja, org.display_name_en,
             # The touchpoints' order and names, which the journey prints (stored rows; none: the defaults).
             list(Touchpoint.objects.filter(organization_id=wave.organization_id).order_by("order", "id")
                  .values_list("key", "name_ja", "name_en"))]
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{data_fingerprint(wave)}:{digest}"
