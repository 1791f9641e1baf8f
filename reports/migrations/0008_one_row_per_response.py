"""The answers' second copy goes: no AnswerVector, no triggers on the answer table.

A response's answers now live packed in its own row (``SurveyResponse.answers_packed``, surveys migration
0017, which runs after this one and turns the answer table into a view). So the vector that the triggers of
0003 kept is the response row itself, and the data-version triggers of 0002/0006 on the answer table have
nothing left to watch: a change of answers is an update of the response row, which the response table's
triggers count. Backwards (after surveys 0017 is reversed and the answer table is back) the triggers are made
again and the vectors rebuilt from the answers.
"""

import importlib

from django.db import migrations

_ANSWER_TRIGGERS = ("kagami_vector_ins", "kagami_vector_upd", "kagami_vector_del",
                    "kagami_version_ins", "kagami_version_upd", "kagami_version_del")
_SHARDS = "reports_waveversionshard"
# As 0006 left it: each changed response looked up once, the shard txid % 16.
_VERSION_ANSWER = (
    "CREATE OR REPLACE FUNCTION kagami_version_surveys_answer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"INSERT INTO {_SHARDS} (wave_id, shard, version) "
    "SELECT wave_id, (txid_current() % 16)::smallint, 1 FROM (SELECT r.wave_id FROM surveys_surveyresponse r "
    "WHERE r.id IN (SELECT DISTINCT response_id FROM changed)) AS touched GROUP BY wave_id ORDER BY wave_id "
    f"ON CONFLICT (wave_id, shard) DO UPDATE SET version = {_SHARDS}.version + 1; RETURN NULL; END $$;"
)
_EVENTS = {"ins": ("INSERT", "NEW"), "upd": ("UPDATE", "NEW"), "del": ("DELETE", "OLD")}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _ANSWER_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON surveys_answer", params=None)
    schema_editor.execute("DROP TRIGGER IF EXISTS kagami_vector_del ON surveys_surveyresponse", params=None)
    for function in ("kagami_vector_answer", "kagami_vector_response", "kagami_version_surveys_answer"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()", params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    vector = importlib.import_module("reports.migrations.0003_answer_vector")
    for statement in vector._FORWARD:  # its triggers, functions and the vectors of the answers there are
        schema_editor.execute(statement, params=None)
    schema_editor.execute(_VERSION_ANSWER, params=None)
    for suffix, (event, which) in _EVENTS.items():
        schema_editor.execute(
            f"CREATE TRIGGER kagami_version_{suffix} AFTER {event} ON surveys_answer REFERENCING {which} TABLE "
            "AS changed FOR EACH STATEMENT EXECUTE FUNCTION kagami_version_surveys_answer();", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_kept_counts"),
        ("surveys", "0016_answer_drop_covered_indexes"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="AnswerVector"),
    ]
