"""AnswerVector and the PostgreSQL triggers that keep it: one packed row of answers per response.

Statement-level, like the version triggers of 0002: whatever writes answers —
a form post, an import, the COPY bulk loader, the admin — rewrites the vector
of every response it touched, in the same transaction. A response's deletion
removes its vector.
"""

from django.db import migrations, models

# Every touched response that still exists gets its vector rebuilt from its answers (item-id order).
_REBUILD = """
INSERT INTO reports_answervector (response_id, wave_id, packed)
SELECT r.id, r.wave_id,
       COALESCE((SELECT string_agg(int4send(a.item_id::int4) || int2send(COALESCE(a.value, -1)::int2), ''::bytea
                                   ORDER BY a.item_id)
                 FROM surveys_answer a WHERE a.response_id = r.id), ''::bytea)
FROM surveys_surveyresponse r WHERE r.id IN (SELECT DISTINCT response_id FROM changed)
ON CONFLICT (response_id) DO UPDATE SET packed = EXCLUDED.packed, wave_id = EXCLUDED.wave_id;
"""
_DROP_DELETED = "DELETE FROM reports_answervector WHERE response_id IN (SELECT id FROM changed);"

_FORWARD = [
    f"CREATE OR REPLACE FUNCTION kagami_vector_answer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_REBUILD} RETURN NULL; END $$;",
    f"CREATE OR REPLACE FUNCTION kagami_vector_response() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_DROP_DELETED} RETURN NULL; END $$;",
    "CREATE TRIGGER kagami_vector_ins AFTER INSERT ON surveys_answer REFERENCING NEW TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION kagami_vector_answer();",
    "CREATE TRIGGER kagami_vector_upd AFTER UPDATE ON surveys_answer REFERENCING NEW TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION kagami_vector_answer();",
    "CREATE TRIGGER kagami_vector_del AFTER DELETE ON surveys_answer REFERENCING OLD TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION kagami_vector_answer();",
    "CREATE TRIGGER kagami_vector_del AFTER DELETE ON surveys_surveyresponse REFERENCING OLD TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION kagami_vector_response();",
    # Responses answered before this migration.
    "INSERT INTO reports_answervector (response_id, wave_id, packed) "
    "SELECT r.id, r.wave_id, COALESCE(string_agg(int4send(a.item_id::int4) || int2send(COALESCE(a.value, -1)::int2), "
    "''::bytea ORDER BY a.item_id), ''::bytea) "
    "FROM surveys_surveyresponse r LEFT JOIN surveys_answer a ON a.response_id = r.id GROUP BY r.id, r.wave_id;",
]
_BACKWARD = [
    "DROP TRIGGER IF EXISTS kagami_vector_ins ON surveys_answer;",
    "DROP TRIGGER IF EXISTS kagami_vector_upd ON surveys_answer;",
    "DROP TRIGGER IF EXISTS kagami_vector_del ON surveys_answer;",
    "DROP TRIGGER IF EXISTS kagami_vector_del ON surveys_surveyresponse;",
    "DROP FUNCTION IF EXISTS kagami_vector_answer();",
    "DROP FUNCTION IF EXISTS kagami_vector_response();",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_wave_data_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerVector",
            fields=[
                ("response_id", models.UUIDField(primary_key=True, serialize=False)),
                ("wave_id", models.BigIntegerField(db_index=True)),
                ("packed", models.BinaryField()),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
