"""Issue 13, item 7: an item can be retired (kept with its history, no longer asked in new waves)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("surveys", "0008_import_jobs")]

    operations: list = [
        migrations.AddField(
            model_name="itempair",
            name="retired_at",
            field=models.DateTimeField(blank=True, help_text="Retired: kept, but not asked.", null=True),
        ),
    ]
