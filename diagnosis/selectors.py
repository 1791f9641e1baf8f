"""The diagnosis's reads: links and results by their handles, and an organization's aggregate.

The aggregate (``organization_summary``) is shown only from k results on, and only over whole blocks
of k results in the order they were stored (the first k, the first 2k, …): two views a day apart then
differ by at least k results, so nobody learns one person's scores by differencing them
(docs/diagnosis.md, "The organization's aggregate"). k is the staff anonymity threshold a new wave
gets by default (surveys.models.Wave), since Organization has no threshold of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from diagnosis import scoring
from diagnosis.models import DiagnosisLink, DiagnosisResult
from diagnosis.questions import AREA_KEYS, AREAS_BY_KEY, ELEMENT_KEYS, ELEMENTS_BY_KEY, VERSION
from surveys import errors
from surveys.models import Organization, Wave, WaveStatus, hash_token

SUMMARY_K: int = Wave._meta.get_field("anonymity_threshold").default
TOKEN_MAX_LENGTH = 100


def active_link(token: str) -> DiagnosisLink:
    """The active link of ``token``; NotFound for an unknown, malformed or switched-off one (told apart by nothing)."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise errors.NotFound()
    link = (DiagnosisLink.objects.select_related("organization")
            .filter(token_hash=hash_token(token), is_active=True).first())
    if link is None:
        raise errors.NotFound()
    return link


def result_by_uuid(value: Any) -> DiagnosisResult:
    try:
        key = uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise errors.NotFound() from None
    result = DiagnosisResult.objects.select_related("organization", "link").filter(uuid=key).first()
    if result is None:
        raise errors.NotFound()
    return result


def link_list(*, org_ids: Iterable[int]) -> QuerySet[DiagnosisLink]:
    return DiagnosisLink.objects.filter(organization_id__in=list(org_ids)).order_by("organization_id",
                                                                                    "-created_at", "-id")


def latest_closed_wave(organization_id: int) -> Wave | None:
    """The organization's most recently closed wave (by when it closed), or None."""
    return (Wave.objects.filter(organization_id=organization_id, status=WaveStatus.CLOSED)
            .select_related("organization", "instrument").order_by("-closed_at", "-id").first())


def organization_language(organization: Organization) -> str | None:
    """The language the organization's latest wave opens in, if it has a wave."""
    wave = Wave.objects.filter(organization=organization).order_by("-created_at", "-id").first()
    return wave.default_language if wave is not None else None


def _distribution(values: list[float]) -> dict[str, int]:
    counts = {key: 0 for _, key in scoring.BANDS}
    for value in values:
        counts[scoring.band(value)] += 1
    return counts


def _aggregate(rows: list[dict], key: str) -> dict[str, Any]:
    values = [row[key] for row in rows]
    mean = round(sum(values) / len(values), 1)
    named = ELEMENTS_BY_KEY.get(key) or AREAS_BY_KEY[key]
    return {"key": key, "name_ja": named.name_ja, "name_en": named.name_en, "mean": mean,
            "band": scoring.band(mean), "distribution": _distribution(values)}


def organization_summary(organization: Organization, *, k: int = SUMMARY_K) -> dict[str, Any]:
    """The organization's results in aggregate: counts always; means and distributions over whole blocks of k."""
    results = list(DiagnosisResult.objects.filter(organization=organization, version=VERSION)
                   .order_by("id").values_list("scores", flat=True))
    included = len(results) // k * k
    summary: dict[str, Any] = {
        "organization_id": organization.pk, "version": VERSION, "k": k, "n_results": len(results),
        "n_included": included, "status": "ok" if included else "suppressed_min_n",
        "elements": None, "areas": None,
    }
    if included:
        shown = results[:included]
        summary["elements"] = [_aggregate([s["elements"] for s in shown], key) for key in ELEMENT_KEYS]
        summary["areas"] = [_aggregate([s["areas"] for s in shown], key) for key in AREA_KEYS]
    return summary
