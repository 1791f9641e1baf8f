"""Data migration: install Kagami's built-in instrument ``kagami-core`` v1.

Uses the historical models through ``apps``; the loader is idempotent, so
running this on a database that already has the instrument changes nothing.
"""

from django.db import migrations

from surveys.instruments.builtin import BUILTIN_KEY, BUILTIN_VERSION
from surveys.instruments.loader import builtin_install


def forward(apps, schema_editor):
    builtin_install(apps=apps, using=schema_editor.connection.alias)


def backward(apps, schema_editor):
    Instrument = apps.get_model("surveys", "Instrument")
    Wave = apps.get_model("surveys", "Wave")
    qs = Instrument.objects.using(schema_editor.connection.alias).filter(
        organization__isnull=True, key=BUILTIN_KEY, version=BUILTIN_VERSION
    )
    # A wave should never run on the built-in itself (waves use organization copies);
    # if one does, keep the instrument rather than fail the whole rollback.
    if not Wave.objects.using(schema_editor.connection.alias).filter(instrument__in=qs).exists():
        qs.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
