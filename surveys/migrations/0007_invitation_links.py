"""Invitation links that survive reminders (issue 13, item 8): earlier links of an invitation, and when a
mailing last went through it (the reminder cool-down)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def backfill_last_sent_at(apps, schema_editor):
    """Customers: their last reminder, else their first mailing. Staff: the first mailing only, since
    staff reminders were recorded on the unanswered ones alone (P1: the cool-down must not follow that)."""
    Invitation = apps.get_model("surveys", "Invitation")
    Invitation.objects.filter(sent_at__isnull=False).update(last_sent_at=F("sent_at"))
    Invitation.objects.filter(side="customer", last_reminded_at__isnull=False).update(
        last_sent_at=F("last_reminded_at"))


class Migration(migrations.Migration):
    dependencies = [("surveys", "0006_membership_invitations")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="last_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name="InvitationLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("active", models.BooleanField(default=True)),
                ("replaced_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("invitation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name="earlier_links", to="surveys.invitation")),
            ],
        ),
        migrations.RunPython(backfill_last_sent_at, migrations.RunPython.noop),
    ]
