"""Kept count tables (``reports.KeptCounts``) and, on PostgreSQL, the triggers of the wave's reset counter.

A wave's kept tables add each new release's responses (reports.counts.kept); that is exact only while the
responses already counted stay as they were. So every change that could alter them moves the wave's reset
counter — shard −1 of ``reports_waveversionshard``, so that the data version (the sum of the shards) moves
too — in the same statement: an update or deletion of a published response (whose answers live in its row,
``surveys.0017``). Releasing (setting ``release`` on waiting responses) and new responses move it not: they
are what is added. An account whose status changes (the tables are split by status) is logged
instead (``reports.AccountMove``): the kept tables then re-read only that account's responses.
Statement-level with transition tables, as the version triggers (0002, 0006): one statement each.
SQLite's triggers are made after every migrate (reports.counts.sqlite_version).
"""

import django.db.models.deletion
from django.db import migrations, models

_SHARDS = "reports_waveversionshard"
_BUMP = (
    f"INSERT INTO {_SHARDS} (wave_id, shard, version) "
    "SELECT wave_id, -1, 1 FROM ({waves}) AS touched GROUP BY wave_id ORDER BY wave_id "
    f"ON CONFLICT (wave_id, shard) DO UPDATE SET version = {_SHARDS}.version + 1;"
)
_FUNCTIONS = {  # function → which waves' counted responses a statement changed
    "kagami_reset_response": "SELECT wave_id FROM changed WHERE release IS NOT NULL",
}
_MOVES = ("INSERT INTO reports_accountmove (organization_id, account_id, old_status, new_status) "
          "SELECT n.organization_id, n.id, o.status, n.status FROM changed n JOIN before o ON o.id = n.id "
          "WHERE o.status IS DISTINCT FROM n.status ORDER BY n.id;")
_TRIGGERS = [  # (table, event, function, transition tables)
    ("surveys_surveyresponse", "UPDATE", "kagami_reset_response", "OLD TABLE AS changed"),
    ("surveys_surveyresponse", "DELETE", "kagami_reset_response", "OLD TABLE AS changed"),
    ("surveys_customeraccount", "UPDATE", "kagami_reset_account_moves", "OLD TABLE AS before NEW TABLE AS changed"),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    bodies = {name: _BUMP.format(waves=waves) for name, waves in _FUNCTIONS.items()}
    bodies["kagami_reset_account_moves"] = _MOVES
    for name, body in bodies.items():
        schema_editor.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              f"{body} RETURN NULL; END $$;", params=None)
    for table, event, function, transitions in _TRIGGERS:
        schema_editor.execute(f"CREATE TRIGGER {function}_{table}_{event.lower()} AFTER {event} ON {table} "
                              f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {function}();",
                              params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, event, function, _ in _TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_{table}_{event.lower()} ON {table};", params=None)
    for name in [*_FUNCTIONS, "kagami_reset_account_moves"]:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}();", params=None)
    schema_editor.execute(f"DELETE FROM {_SHARDS} WHERE shard = -1;", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_wave_version_shards"),
        ("surveys", "0016_answer_drop_covered_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeptCounts",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("basis", models.JSONField(default=dict)),
                ("signature", models.CharField(max_length=64)),
                ("resets", models.BigIntegerField(default=0)),
                ("moves_seen", models.BigIntegerField(default=0)),
                ("revision", models.BigIntegerField(default=0)),
                ("tables", models.BinaryField()),
                ("responses", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("wave", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                              to="surveys.wave")),
            ],
        ),
        migrations.CreateModel(
            name="AccountMove",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("organization_id", models.BigIntegerField()),
                ("account_id", models.BigIntegerField()),
                ("old_status", models.CharField(max_length=40)),
                ("new_status", models.CharField(max_length=40)),
            ],
            options={"indexes": [models.Index(fields=["organization_id", "id"], name="account_move_org_idx")]},
        ),
        migrations.RunPython(forward, backward),
    ]
