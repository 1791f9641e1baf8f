"""Placeholder in the migration chain; its owner fills in the operations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("surveys", "0009_instrument_items")]

    operations: list = []
