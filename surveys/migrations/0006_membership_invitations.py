"""Issue 13, item 1: memberships through e-mailed invitations, and their audit actions."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0005_publish_existing_responses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("gap_view", "Viewed gap results"),
                    ("report_request", "Requested a report"),
                    ("report_download", "Downloaded a report"),
                    ("export", "Exported responses"),
                    ("response_list", "Listed responses"),
                    ("comment_list", "Read comments"),
                    ("segment_difference", "Compared two segments"),
                    ("threshold_override", "Set a staff threshold below the default"),
                    ("member_invite", "Invited someone to join"),
                    ("member_invite_resend", "Sent a membership invitation again"),
                    ("member_invite_revoke", "Revoked a membership invitation"),
                    ("member_join", "Joined by accepting an invitation"),
                ],
                max_length=24,
            ),
        ),
        migrations.CreateModel(
            name="MembershipInvitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.EmailField(max_length=254)),
                ("role", models.CharField(choices=[("admin", "Admin"), ("analyst", "Analyst"),
                                                   ("executive", "Executive")], max_length=16)),
                ("language", models.CharField(choices=[("ja", "日本語"), ("en", "English")], default="ja",
                                              max_length=2)),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("accepted_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                  related_name="+", to=settings.AUTH_USER_MODEL)),
                ("invited_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="member_invitations", to="surveys.organization")),
            ],
            options={
                "ordering": ["organization_id", "-created_at", "-id"],
                "indexes": [models.Index(fields=["organization", "email"], name="member_invitation_org_email")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("accepted_at__isnull", True), ("revoked_at__isnull", True),
                                           _connector="OR"),
                        name="member_invitation_accepted_or_revoked",
                    ),
                ],
            },
        ),
    ]
