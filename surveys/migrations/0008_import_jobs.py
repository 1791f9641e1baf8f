"""Import integrity and background imports (issue 13, items 3 and 6): respondent keys already imported
(a keyed hash only, linked to no response) and import jobs."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0007_invitation_links"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportedResponseKey",
            fields=[
                ("key_hash", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("side", models.CharField(choices=[("staff", "Staff"), ("customer", "Customer")], max_length=10)),
                ("wave", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                           to="surveys.wave")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("wave", "side", "key_hash"),
                                                        name="imported_key_unique_wave_side_key")],
            },
        ),
        migrations.CreateModel(
            name="ImportJob",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(choices=[("invitations", "Invitations"), ("accounts", "Customer accounts")],
                                          max_length=20)),
                ("side", models.CharField(blank=True, choices=[("staff", "Staff"), ("customer", "Customer")],
                                          max_length=10)),
                ("options", models.JSONField(blank=True, default=dict)),
                ("filename", models.CharField(blank=True, max_length=255)),
                ("data", models.BinaryField(blank=True, default=b"")),
                ("status", models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"),
                                                     ("failed", "Failed")], default="queued", max_length=10)),
                ("rows_total", models.PositiveIntegerField(blank=True, null=True)),
                ("rows_done", models.PositiveIntegerField(default=0)),
                ("created", models.PositiveIntegerField(default=0)),
                ("skipped", models.JSONField(blank=True, default=list)),
                ("errors", models.JSONField(blank=True, default=list)),
                ("error", models.TextField(blank=True)),
                ("ignored_columns", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="import_jobs", to="surveys.organization")),
                ("wave", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                           related_name="import_jobs", to="surveys.wave")),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["organization", "-created_at"], name="surveys_imp_organiz_2beda9_idx")],
            },
        ),
    ]
