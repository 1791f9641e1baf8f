"""The wave's row lock, waited for a bounded time.

Publishers lock a wave's row for milliseconds; a bulk load that publishes its own rows
(:class:`surveys.releases.ImportReleases`) holds it until it commits, minutes for millions of rows. A request
must not wait that out behind a web server's timeout: it waits a bounded time and then does without (a reader
shows the current release) or says why it cannot go on (an edit of the wave: 409).
"""

from __future__ import annotations

from django.db import OperationalError, connection, transaction

from surveys.models import Wave

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


def lock_wave(wave_id: int, *, wait_ms: int, no_key: bool = True) -> bool:
    """Lock the wave's row in the caller's transaction (``FOR NO KEY UPDATE``, or ``FOR UPDATE`` with
    ``no_key=False``); False if another transaction held it for longer than ``wait_ms``. On SQLite, which has
    no row locks (one writer at a time), always True."""
    lock = Wave.objects.select_for_update(no_key=no_key).filter(pk=wave_id).values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        lock.first()
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                       [f"{int(wait_ms)}ms"])
        previous = cursor.fetchone()[0]
    try:
        with transaction.atomic():  # a savepoint: a lock timeout undoes only this, the caller's work stays
            lock.first()
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        return False
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True
