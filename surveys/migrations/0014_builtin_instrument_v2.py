"""Data migration: install the built-in instrument ``kagami-core`` v2 (touchpoints and six journey pairs).

v1 stays exactly as it is (waves of its organization copies never change). The loader is
idempotent, so running this on a database that already has v2 changes nothing.
"""

from django.db import migrations

from surveys.instruments.builtin import BUILTIN_KEY
from surveys.instruments.journey import BUILTIN_V2
from surveys.instruments.loader import builtin_install


def forward(apps, schema_editor):
    builtin_install(apps=apps, using=schema_editor.connection.alias, version=BUILTIN_V2)


def backward(apps, schema_editor):
    Instrument = apps.get_model("surveys", "Instrument")
    Wave = apps.get_model("surveys", "Wave")
    qs = Instrument.objects.using(schema_editor.connection.alias).filter(
        organization__isnull=True, key=BUILTIN_KEY, version=BUILTIN_V2
    )
    if not Wave.objects.using(schema_editor.connection.alias).filter(instrument__in=qs).exists():
        qs.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0013_touchpoints"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
