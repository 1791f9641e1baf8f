"""Placeholder in the migration chain; its owner fills in the operations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("surveys", "0005_publish_existing_responses")]

    operations: list = []
