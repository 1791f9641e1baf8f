"""Where a query goes when a PostgreSQL streaming replica is configured (KAGAMI_REPLICA_DATABASE_URL).

One rule, decided here only: reads made inside :func:`replica_reads` go to the ``replica`` alias; every
other read, every write and every migration go to ``default``. Only the gap's count read enters that scope
(:mod:`reports.counts.replica`, which first checks that the replica is not behind the data version the
read claims), so an ordinary request never reads a replica and never sees its lag.

The scope is a context variable: it holds for the thread (or task) that entered it and nothing else, so
a report worker or request thread running at the same time keeps reading the primary. Raw SQL asks the
same question as the ORM does, ``connections[router.db_for_read(Model)]``.

Installed (settings.DATABASE_ROUTERS) only when a replica is configured; without one nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading_replica: ContextVar[bool] = ContextVar("kagami_reading_replica", default=False)


def replica_alias() -> str | None:
    """The replica's alias when one is configured, else None."""
    return REPLICA if REPLICA in settings.DATABASES else None


@contextmanager
def replica_reads() -> Iterator[str]:
    """Within the block, this thread's reads go to the replica (writes still go to the primary).

    Yields the alias that reads will use. Callers must have checked the replica is fresh enough.
    """
    alias = replica_alias()
    if alias is None:
        raise RuntimeError("replica_reads() needs KAGAMI_REPLICA_DATABASE_URL")
    token = _reading_replica.set(True)
    try:
        yield alias
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    """Django's router: the replica for reads inside :func:`replica_reads`, the primary for everything else."""

    def db_for_read(self, model, **hints) -> str:
        if _reading_replica.get() and replica_alias() is not None:
            return REPLICA
        # Explicitly the primary: an object loaded from the replica must not pull its relations from it later.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica receives the schema by replication, never by migrate
