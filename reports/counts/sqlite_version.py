"""The wave's data version on SQLite: the triggers that keep ``reports.WaveVersionShard`` there (shard 0 only:
SQLite has one writer at a time, so the shards that spread PostgreSQL's row locks would buy nothing).

Why it pays: SQLite is the database of ``make run`` and of small deployments.
Without a data version there, every gap request recounted every answer of the wave
(the count tables could not be kept), and the analysis cache was keyed by a
fingerprint of aggregates (sums of answer values, last submission) that two
different sets of answers can share; a counter that every change moves cannot.

PostgreSQL keeps the counter with statement-level triggers made by migrations
(``reports/0002``, ``0004``, ``0006``). SQLite differs in two ways that decide the design:
its triggers are row-level (each changed row moves its wave's counter by one;
callers compare versions for equality, never their size), and changing a table's
schema rebuilds the table, which drops its triggers, and renaming a table fails on a
trigger that names a table a migration has dropped. So the triggers are not a
migration: they are dropped before every ``migrate`` and made again after it
(``post_migrate``, :mod:`reports.apps`); and since rows changed in between, by a
data migration on a rebuilt table, moved no counter, every wave's counter is moved
once then, which retires whatever a cache holds.

Same tables and events as on PostgreSQL: responses, whose rows carry their answers
(insert, update, delete), customer accounts (update, delete: every wave of the
organisation; a new account has no responses yet), invitations (insert, delete: a
mailing changes no number shown).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

# Not INSERT OR IGNORE: inside a trigger SQLite applies the outer statement's conflict policy instead (an upsert's
# ABORT), so a counter row that exists would fail the outer statement. Rows are inserted only where missing.
_TOUCH = ("INSERT INTO reports_waveversionshard (wave_id, shard, version) SELECT id, 0, 0 FROM surveys_wave "
          "WHERE id IN ({waves}) AND id NOT IN (SELECT wave_id FROM reports_waveversionshard WHERE shard = 0); "
          "UPDATE reports_waveversionshard SET version = version + 1 WHERE shard = 0 AND wave_id IN ({waves});")
_WAVES = {
    "surveys_surveyresponse": "SELECT {row}.wave_id",
    "surveys_customeraccount": "SELECT id FROM surveys_wave WHERE organization_id = {row}.organization_id",
    "surveys_invitation": "SELECT {row}.wave_id",
}
_EVENTS = {
    "surveys_surveyresponse": ("INSERT", "UPDATE", "DELETE"),
    "surveys_customeraccount": ("UPDATE", "DELETE"),
    "surveys_invitation": ("INSERT", "DELETE"),
}
# The rows an event can see: an update touches the wave the row was in and the one it is in now.
_ROWS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}

TRIGGER_PREFIX = "kagami_version_"

# The reset counter of kept count tables (reports.counts.kept, migration reports/0007 on PostgreSQL): shard −1,
# moved by every change to responses already counted: a published response updated (its answers are in its
# row) or deleted. Releases and new responses move it not.
RESET_SHARD = -1
_RESET_TOUCH = (_TOUCH.replace("shard = 0", f"shard = {RESET_SHARD}")
                .replace("SELECT id, 0, 0", f"SELECT id, {RESET_SHARD}, 0"))
_RESETS = {  # (table, event): (the row's waves, when)
    ("surveys_surveyresponse", "UPDATE"): ("SELECT OLD.wave_id", "OLD.release IS NOT NULL"),
    ("surveys_surveyresponse", "DELETE"): ("SELECT OLD.wave_id", "OLD.release IS NOT NULL"),
}
# An account's status change is logged, not a reset: kept tables re-read only the moved account's responses.
_MOVES = ("kagami_reset_account_moves_surveys_customeraccount_update",
          "AFTER UPDATE ON surveys_customeraccount FOR EACH ROW WHEN OLD.status IS NOT NEW.status BEGIN "
          "INSERT INTO reports_accountmove (organization_id, account_id, old_status, new_status) "
          "VALUES (NEW.organization_id, NEW.id, OLD.status, NEW.status); END;")
RESET_PREFIX = "kagami_reset_"
TRIGGER_NAMES = (*(f"{TRIGGER_PREFIX}{table}_{event.lower()}" for table, events in _EVENTS.items()
                   for event in events),
                 *(f"{RESET_PREFIX}{table}_{event.lower()}" for table, event in _RESETS), _MOVES[0])
# The answer table's, until surveys migration 0017 made it a view of the response rows: dropped before a migrate
# like the others (their bodies name the response table, which that migration changes), never made again.
_RETIRED = tuple(f"{prefix}surveys_answer_{event}" for prefix in (TRIGGER_PREFIX, RESET_PREFIX)
                 for event in ("insert", "update", "delete"))


def _statements() -> list[str]:
    # Dropped and made again, not IF NOT EXISTS: a trigger left by an earlier body of this module is replaced.
    out = []
    for table, events in _EVENTS.items():
        for event in events:
            body = " ".join(_TOUCH.format(waves=_WAVES[table].format(row=row)) for row in _ROWS[event])
            name = f"{TRIGGER_PREFIX}{table}_{event.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {name};")
            out.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END;")
    for (table, event), (waves, when) in _RESETS.items():
        name = f"{RESET_PREFIX}{table}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {name};")
        out.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW WHEN {when} "
                   f"BEGIN {_RESET_TOUCH.format(waves=waves)} END;")
    out += [f"DROP TRIGGER IF EXISTS {_MOVES[0]};", f"CREATE TRIGGER {_MOVES[0]} {_MOVES[1]}"]
    return out


def install(connection: BaseDatabaseWrapper) -> bool:
    """Make the triggers (again) and move every wave's counter once. False if not SQLite or not migrated."""
    if connection.vendor != "sqlite":
        return False
    tables = set(connection.introspection.table_names())
    if not ({"reports_waveversionshard", "reports_accountmove", "surveys_wave"} | set(_EVENTS)) <= tables:
        return False
    with connection.cursor() as cursor:
        for statement in _statements():
            cursor.execute(statement)
        cursor.execute("INSERT INTO reports_waveversionshard (wave_id, shard, version) SELECT id, 0, 0 "
                       "FROM surveys_wave "
                       "WHERE id NOT IN (SELECT wave_id FROM reports_waveversionshard WHERE shard = 0)")
        cursor.execute("UPDATE reports_waveversionshard SET version = version + 1 WHERE shard = 0")
        # Rows changed while the triggers were away may be counted rows: every wave's kept tables are retired.
        cursor.execute(f"INSERT INTO reports_waveversionshard (wave_id, shard, version) SELECT id, {RESET_SHARD}, 0 "
                       f"FROM surveys_wave WHERE id NOT IN "
                       f"(SELECT wave_id FROM reports_waveversionshard WHERE shard = {RESET_SHARD})")
        cursor.execute(f"UPDATE reports_waveversionshard SET version = version + 1 WHERE shard = {RESET_SHARD}")
    return True


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers before ``migrate`` runs (``pre_migrate``): a migration that rebuilds, renames or drops
    a table they name would otherwise fail on them (SQLite checks every trigger when a table is renamed)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in (*TRIGGER_NAMES, *_RETIRED):
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether every trigger is there (a schema change since the last ``migrate`` may have dropped some)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                       f"({', '.join(['%s'] * len(TRIGGER_NAMES))})", list(TRIGGER_NAMES))
        return cursor.fetchone()[0] == len(TRIGGER_NAMES)
