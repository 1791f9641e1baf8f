"""The wave's data version in shards (``reports.WaveVersionShard``): concurrent writes to one wave lock different rows.

One counter row per wave (0002) was updated by every form post, and the row lock lasted until the commit, so
with synchronous commits each post waited for the one before it to reach the disk: about one post per
fsync, whatever the number of workers. Now each transaction bumps the shard ``txid % 16`` (concurrent
transactions have neighbouring ids, so mostly different shards; one transaction always the same one, so two
statements of one transaction never lock two shards in opposite orders), and the version is the sum of the
wave's shards: every committed change still raises it. The answer table's trigger also looks each changed
response up once, not once per answer. The versions carry over as shard 0.
"""

from django.db import migrations, models

_SHARDS = "reports_waveversionshard"
_BUMP = (
    f"INSERT INTO {_SHARDS} (wave_id, shard, version) "
    "SELECT wave_id, (txid_current() % 16)::smallint, 1 FROM ({waves}) AS touched GROUP BY wave_id ORDER BY wave_id "
    f"ON CONFLICT (wave_id, shard) DO UPDATE SET version = {_SHARDS}.version + 1;"
)
_OLD_BUMP = (
    "INSERT INTO reports_wavedataversion (wave_id, version) SELECT wave_id, 1 FROM ({waves}) AS touched "
    "GROUP BY wave_id ORDER BY wave_id "
    "ON CONFLICT (wave_id) DO UPDATE SET version = reports_wavedataversion.version + 1;"
)
_SOURCES = {  # the functions of 0002 and 0004, by table: which waves a statement touched
    "surveys_surveyresponse": "SELECT wave_id FROM changed",
    "surveys_answer": "SELECT r.wave_id FROM surveys_surveyresponse r "
                      "WHERE r.id IN (SELECT DISTINCT response_id FROM changed)",
    "surveys_customeraccount": "SELECT w.id AS wave_id FROM surveys_wave w "
                               "WHERE w.organization_id IN (SELECT organization_id FROM changed)",
    "surveys_invitation": "SELECT wave_id FROM changed",
}
_OLD_ANSWER_SOURCE = "SELECT r.wave_id FROM changed c JOIN surveys_surveyresponse r ON r.id = c.response_id"


def _functions(bump: str, sources: dict[str, str]) -> list[str]:
    return [f"CREATE OR REPLACE FUNCTION kagami_version_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{bump.format(waves=waves)} RETURN NULL; END $$;" for table, waves in sources.items()]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"INSERT INTO {_SHARDS} (wave_id, shard, version) "
                          "SELECT wave_id, 0, version FROM reports_wavedataversion")
    for statement in _functions(_BUMP, _SOURCES):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in _functions(_OLD_BUMP, _SOURCES | {"surveys_answer": _OLD_ANSWER_SOURCE}):
        schema_editor.execute(statement, params=None)
    schema_editor.execute(f"INSERT INTO reports_wavedataversion (wave_id, version) "
                          f"SELECT wave_id, sum(version) FROM {_SHARDS} GROUP BY wave_id")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_stored_files"),
    ]

    operations = [
        migrations.CreateModel(
            name="WaveVersionShard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("wave_id", models.BigIntegerField()),
                ("shard", models.SmallIntegerField()),
                ("version", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("wave_id", "shard"), name="wave_version_shard_unique")],
            },
        ),
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="WaveDataVersion"),
    ]
