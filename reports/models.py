"""Report jobs: one PDF rendering request, its progress and its file.

A job is identified by what was asked (wave, language, options → ``options_hash``)
and by the data it was rendered from (``data_fingerprint``); an identical request
on unchanged data reuses the finished job instead of rendering again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.models import Language, Wave


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def report_upload_to(instance: ReportJob, filename: str) -> str:
    # The random job id keeps report URLs in media unguessable.
    return f"reports/{instance.wave_id}/{instance.pk}/{filename}"


class ReportJob(models.Model):
    """One request to render a wave's executive PDF report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="report_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="report_jobs"
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.JA)
    options = models.JSONField(default=dict, blank=True)
    options_hash = models.CharField(max_length=64, db_index=True)
    data_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=report_upload_to, blank=True, max_length=300)
    page_count = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="reportjob_status_heartbeat")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="reportjob_progress_max_100"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(file=""), name="reportjob_done_has_file"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.wave}, {self.language}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)

    def filename(self) -> str:
        when = self.finished_at or self.created_at
        # The local day of generation (settings.TIME_ZONE), not the UTC one: a report made at 01:00 in Tokyo
        # carries that day's date.
        day = timezone.localdate(when).isoformat() if when else ""
        return f"kagami-{self.wave.slug}-{self.language}-{day}.pdf"


class StoredFile(models.Model):
    """A file kept in the database by :class:`reports.storage.DatabaseStorage` (KAGAMI_FILE_STORAGE=database),
    so that a PDF rendered by a Celery worker on one host is downloaded from a web process on another."""

    name = models.CharField(max_length=300, unique=True)
    content = models.BinaryField()
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes)"


class WaveVersionShard(models.Model):
    """A wave's change counter, in shards, kept by triggers: a free cache key.

    On PostgreSQL (migrations 0002, 0004, 0006, 0008) every statement that inserts,
    updates or deletes a wave's responses (whose rows carry their answers) — or its organization's
    customer accounts, whose status feeds the churn view, or its invitations —
    adds one to one shard, in the same transaction. The wave's version is the
    sum of its shards (``reports.counts.data_version``): every committed change
    raises it, and reading it costs one index range scan, where hashing the
    data costs a scan of every answer. The shard is the transaction's id modulo
    16, so that concurrent form posts to one wave lock different rows: one row
    per wave serialised their commits, each waiting for the one before it to
    reach the disk (bench/NOTES.md). On SQLite (one writer at a time) row-level
    triggers keep shard 0 (reports.counts.sqlite_version). Where the triggers are
    missing, callers fall back to a scan. Nothing here points at a response, so
    it says nothing about who answered when.
    """

    wave_id = models.BigIntegerField()
    shard = models.SmallIntegerField()
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave_id", "shard"], name="wave_version_shard_unique")]

    def __str__(self) -> str:
        return f"wave {self.wave_id} shard {self.shard} v{self.version}"


class KeptCounts(models.Model):
    """A wave's count tables kept in the database, release by release (:mod:`reports.counts.kept`).

    ``tables`` holds the count tables (:class:`reports.counts.tables.WaveCounts`, pickled and compressed) of exactly the
    published responses with ``release <= basis[side]``; they are valid while ``signature`` (the format, the
    instrument's items, the segment fields) and ``resets`` (the wave's reset counter: edits and deletions of
    published responses and of their answers — kept by triggers) are the wave's current ones. A new release
    is added by reading only its responses; an account's status change (:class:`AccountMove`) by reading
    only that account's responses. Like the version shards it names no response: it is what the gap shows,
    in count form.
    """

    wave = models.OneToOneField("surveys.Wave", on_delete=models.CASCADE, related_name="+")
    basis = models.JSONField(default=dict)
    signature = models.CharField(max_length=64)
    resets = models.BigIntegerField(default=0)
    moves_seen = models.BigIntegerField(default=0)  # the last AccountMove of the organisation applied
    revision = models.BigIntegerField(default=0)
    tables = models.BinaryField()
    responses = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"kept counts of wave {self.wave_id} at {self.basis}"


class AccountMove(models.Model):
    """A customer account's status change, logged by triggers in the same statement (migration 0007).

    The count tables are split by the status of each response's account, so a status change moves that
    account's responses from one cell to another; kept tables (:class:`KeptCounts`) apply the moves made
    since they were kept by re-reading only the moved accounts' responses (reports.counts.kept).
    """

    id = models.BigAutoField(primary_key=True)
    organization_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    old_status = models.CharField(max_length=40)
    new_status = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["organization_id", "id"], name="account_move_org_idx")]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.old_status} → {self.new_status}"
