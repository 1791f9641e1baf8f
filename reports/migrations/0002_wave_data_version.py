"""WaveDataVersion and the PostgreSQL triggers that keep it (statement-level, one row per wave touched)."""

from django.db import migrations, models

_BUMP = """
INSERT INTO reports_wavedataversion (wave_id, version)
SELECT wave_id, 1 FROM ({waves}) AS touched GROUP BY wave_id ORDER BY wave_id
ON CONFLICT (wave_id) DO UPDATE SET version = reports_wavedataversion.version + 1;
"""
_SOURCES = {
    "surveys_surveyresponse": "SELECT wave_id FROM changed",
    "surveys_answer": "SELECT r.wave_id FROM changed c JOIN surveys_surveyresponse r ON r.id = c.response_id",
    "surveys_customeraccount": "SELECT w.id AS wave_id FROM surveys_wave w "
                               "WHERE w.organization_id IN (SELECT organization_id FROM changed)",
}
_EVENTS = {"ins": ("INSERT", "NEW"), "upd": ("UPDATE", "NEW"), "del": ("DELETE", "OLD")}


def _sql_forward() -> list[str]:
    out = []
    for table, waves in _SOURCES.items():
        fn = f"kagami_version_{table}"
        out.append(f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"{_BUMP.format(waves=waves)} RETURN NULL; END $$;")
        for suffix, (event, which) in _EVENTS.items():
            if table == "surveys_customeraccount" and event == "INSERT":
                continue  # a new account has no responses yet
            out.append(f"CREATE TRIGGER kagami_version_{suffix} AFTER {event} ON {table} "
                       f"REFERENCING {which} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {fn}();")
    return out


def _sql_backward() -> list[str]:
    out = []
    for table in _SOURCES:
        for suffix in _EVENTS:
            out.append(f"DROP TRIGGER IF EXISTS kagami_version_{suffix} ON {table};")
        out.append(f"DROP FUNCTION IF EXISTS kagami_version_{table}();")
    return out


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _sql_forward():
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _sql_backward():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("surveys", "0003_audit_event"),
    ]

    operations = [
        migrations.CreateModel(
            name="WaveDataVersion",
            fields=[
                ("wave_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
