"""What the quick diagnosis stores (docs/diagnosis.md, "What is stored and why").

A result keeps the answers, the computed scores, the language, the questionnaire version, the
organization and link it came through (or none), and the day. No time of day, no IP address, no
user, no user agent, no cookie: a diagnosis is often answered by one of a few leaders, and a time
stamp next to an access log would name them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from surveys.models import Language, Organization


class DiagnosisLink(models.Model):
    """An organization's diagnosis link /diagnosis/o/<token>/; only the SHA-256 of the token is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="diagnosis_links")
    label = models.CharField(max_length=100, blank=True, help_text="The admins' own note: where the link went.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"diagnosis link #{self.pk} of {self.organization}"


class DiagnosisResult(models.Model):
    """One submitted diagnosis. ``uuid`` (random) is the only handle anyone outside the database sees."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="diagnosis_results")
    link = models.ForeignKey(DiagnosisLink, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="results")
    language = models.CharField(max_length=2, choices=Language.choices)
    version = models.CharField(max_length=16, help_text="The questionnaire's version (diagnosis.questions).")
    answers = models.JSONField(help_text="Item key → answer 1–5.")
    scores = models.JSONField(help_text="Maturity 0–100: {'elements': {...}, 'areas': {...}}.")
    created_on = models.DateField(default=timezone.localdate, help_text="The day only, on purpose.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(link__isnull=True) | Q(organization__isnull=False),
                                   name="diagnosis_result_link_has_organization"),
        ]

    def __str__(self) -> str:
        return f"diagnosis {self.uuid}"
