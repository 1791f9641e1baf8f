"""A wave's count tables read on the streaming replica, never older than the data version they are kept under.

Why: that read is the one heavy read of the gap, the mirror and the PDF (at a million responses its COPY
is about 3.8 s of database time over three processes, EXPLAIN ANALYZE in bench/RESULTS.md); on a replica
it leaves the primary to the writes.

The caller has read the wave's data version on the primary (:func:`reports.counts.data_version`, one index
lookup) and keeps the tables under it. Here, in one REPEATABLE READ transaction on the replica, the
replica's own copy of that counter is read first and the tables after, from the same snapshot:

* the replica's version is at least the claimed one: the tables are read there and describe exactly the
  version read (returned with them, so they are kept under that version, never under an older claim);
* it is older (the replica has not replayed the latest change yet): the transaction ends, the read waits a
  little (KAGAMI_REPLICA_MAX_WAIT_MS in all) and tries again, then gives up: the caller reads the primary.

A replica that fails (down, a query cancelled by a recovery conflict) is logged and the primary read
instead: a replica can make a read cheaper for the primary, never wrong or impossible.

Why the version and not the replay position (LSN): the counter is per wave, so a busy primary writing
other organisations' waves does not make this wave's read wait; and it is the very key of the counts
cache, so a replica read is fresh under exactly the rule that already decides when kept tables are stale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from backend import db_router
from reports.counts.tables import WaveCounts
from reports.counts.version import version_on
from surveys.models import Wave

log = logging.getLogger(__name__)


def counts_on_replica(wave: Wave, claimed: int, compute: Callable[[Wave], WaveCounts]) -> tuple[WaveCounts, int] | None:
    """``compute(wave)`` run on the replica and the data version it saw (≥ ``claimed``), or None: read the primary.

    None when no replica is configured, when it stays behind ``claimed`` for longer than
    KAGAMI_REPLICA_MAX_WAIT_MS, or when it fails.
    """
    alias = db_router.replica_alias()
    if alias is None or connection.vendor != "postgresql":
        return None
    deadline = time.monotonic() + settings.KAGAMI_REPLICA_MAX_WAIT_MS / 1000
    pause = 0.01
    while True:
        try:
            result = _read(wave, claimed, compute, alias)
        except DatabaseError as exc:
            log.warning("replica %s failed for wave %s (%s); reading the primary", alias, wave.pk, exc)
            connections[alias].close()  # a broken connection is not reused by the next read
            return None
        if result is not None:
            return result
        left = deadline - time.monotonic()
        if left <= 0:
            log.info("replica %s is behind version %s of wave %s; reading the primary", alias, claimed, wave.pk)
            return None
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)


def replica_version(wave: Wave, alias: str) -> int:
    """The wave's data version as the replica has replayed it so far (0: no change replayed yet)."""
    return version_on(wave, alias)


def _read(wave: Wave, claimed: int, compute: Callable[[Wave], WaveCounts], alias: str) -> tuple[WaveCounts, int] | None:
    with db_router.replica_reads(), transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:  # the first statement: the snapshot is taken after it
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        seen = replica_version(wave, alias)
        if seen < claimed:
            return None
        return compute(wave), seen
