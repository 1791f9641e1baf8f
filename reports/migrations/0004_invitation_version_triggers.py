"""The wave's data version also moves when invitations are added or removed.

The gap analysis shows response rates (invited per side), so a result cached under the data
version must not outlive a new invitation. Statement-level, like the triggers of 0002; only
INSERT and DELETE (an update of an invitation, such as a mailing, changes no number shown).
"""

from django.db import migrations

_FUNCTION = ("CREATE OR REPLACE FUNCTION kagami_version_surveys_invitation() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN INSERT INTO reports_wavedataversion (wave_id, version) "
             "SELECT wave_id, 1 FROM (SELECT wave_id FROM changed) AS touched GROUP BY wave_id ORDER BY wave_id "
             "ON CONFLICT (wave_id) DO UPDATE SET version = reports_wavedataversion.version + 1; "
             "RETURN NULL; END $$;")
_TRIGGERS = {"ins": ("INSERT", "NEW"), "del": ("DELETE", "OLD")}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_FUNCTION)
    for suffix, (event, which) in _TRIGGERS.items():
        schema_editor.execute(
            f"CREATE TRIGGER kagami_version_{suffix} AFTER {event} ON surveys_invitation REFERENCING {which} TABLE "
            f"AS changed FOR EACH STATEMENT EXECUTE FUNCTION kagami_version_surveys_invitation();")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for suffix in _TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS kagami_version_{suffix} ON surveys_invitation;")
    schema_editor.execute("DROP FUNCTION IF EXISTS kagami_version_surveys_invitation();")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_answer_vector"),
        ("surveys", "0005_publish_existing_responses"),
    ]

    operations = [migrations.RunPython(forward, backward)]
