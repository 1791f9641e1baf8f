"""One row per response: the answers move into ``SurveyResponse.answers_packed`` and the answer table becomes a view.

A form post wrote its 26 answers as 26 rows into a table with two indexes, plus (on PostgreSQL) a packed copy
kept by triggers (reports/0003): the data twice. Now the response row carries its answers packed
(``surveys.packing``), written by the INSERT that stores the response, and ``surveys_answer`` is a view that
unpacks them for the readers that want rows (``surveys.models.Answer``, unmanaged).

Existing answers are packed first — on PostgreSQL by one UPDATE (``string_agg`` of ``int4send || int2send``
in item-id order, as the trigger of reports/0003 built them), elsewhere in batches in Python — then the table
is dropped and the view made (on SQLite after every migrate: ``surveys.packing.sqlite_view_install``).
Backwards, the table is made again from the packed column, which is then dropped.
"""

import django.db.models.deletion
from django.db import migrations, models

from surveys import packing

_BATCH = 2000


def _pack_existing(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE surveys_surveyresponse r SET answers_packed = a.packed FROM ("
                "SELECT response_id, string_agg(int4send(item_id::int4) || int2send(COALESCE(value, -1)::int2), "
                "''::bytea ORDER BY item_id) AS packed FROM surveys_answer GROUP BY response_id) a "
                "WHERE a.response_id = r.id")
            return
        cursor.execute("SELECT DISTINCT response_id FROM surveys_answer")
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start:start + _BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT response_id, item_id, value FROM surveys_answer WHERE response_id IN ({marks})",
                           chunk)
            by_response: dict = {}
            for response_id, item_id, value in cursor.fetchall():
                by_response.setdefault(response_id, []).append((item_id, value))
            cursor.executemany("UPDATE surveys_surveyresponse SET answers_packed = %s WHERE id = %s",
                               [(packing.pack(answers), rid) for rid, answers in by_response.items()])


def _unpack_existing(apps, schema_editor):
    # Backwards: the answer table (made again by the reversed DeleteModel) refilled from the packed column.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, answers_packed FROM surveys_surveyresponse WHERE length(answers_packed) > 0")
        rows = cursor.fetchall()
        for start in range(0, len(rows), _BATCH):
            cursor.executemany("INSERT INTO surveys_answer (response_id, item_id, value) VALUES (%s, %s, %s)",
                               [(rid, item, value) for rid, packed in rows[start:start + _BATCH]
                                for item, value in packing.unpack(packed).items()])


def _make_view(apps, schema_editor):
    # SQLite: the positions table here, the view after every migrate (surveys.apps, packing.sqlite_view_install).
    for statement in packing.create_view_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def _unmake_view(apps, schema_editor):
    for statement in packing.drop_view_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0016_answer_drop_covered_indexes"),
        # Its triggers on the answer table go first (and come back last, backwards).
        ("reports", "0008_one_row_per_response"),
    ]

    operations = [
        migrations.AddField(
            model_name="surveyresponse",
            name="answers_packed",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
        migrations.RunPython(_pack_existing, _unpack_existing),
        migrations.DeleteModel(name="Answer"),
        migrations.RunPython(_make_view, _unmake_view),
        migrations.CreateModel(
            name="Answer",
            fields=[
                ("id", models.CharField(editable=False, max_length=60, primary_key=True, serialize=False)),
                ("value", models.SmallIntegerField(blank=True, null=True)),
                ("item", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                                           related_name="answers", to="surveys.itempair")),
                ("response", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                               related_name="answers", to="surveys.surveyresponse")),
            ],
            options={
                "db_table": "surveys_answer",
                "managed": False,
            },
        ),
    ]
