"""One result as every interface shows it: the page, the API twin and the PDF read the same dict.

Scores come from the stored result (computed once, at submission); names, labels and next steps in
the reader's language; the mirror comparison from diagnosis.mirror (or None).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from diagnosis import scoring
from diagnosis.mirror import mirror_comparison
from diagnosis.models import DiagnosisResult
from diagnosis.questions import AREAS, ELEMENTS, ITEMS, SCALE_MAX, SCALE_MIN, VERSION


def questionnaire(language: str) -> dict[str, Any]:
    """The questionnaire in ``language`` (the API's GET questions, and the form's sections)."""
    return {
        "version": VERSION,
        "language": language,
        "languages": ["ja", "en"],
        "scale": {"min": SCALE_MIN, "max": SCALE_MAX, "labels": scale_labels(language)},
        "elements": [{"key": e.key, "name": e.name(language)} for e in ELEMENTS],
        "areas": [{"key": a.key, "name": a.name(language), "about": a.about(language)} for a in AREAS],
        "items": [{"key": i.key, "element": i.element, "areas": list(i.areas), "text": i.text(language),
                   "required": True} for i in ITEMS],
    }


def scale_labels(language: str) -> list[dict[str, Any]]:
    words = {
        "ja": ["全くそう思わない", "そう思わない", "どちらとも言えない", "そう思う", "強くそう思う"],
        "en": ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"],
    }["ja" if language == "ja" else "en"]
    return [{"value": SCALE_MIN + i, "label": word} for i, word in enumerate(words)]


def _scored(key: str, name: str, value: float, language: str) -> dict[str, Any]:
    band = scoring.band(value)
    return {"key": key, "name": name, "score": value, "band": band, "band_label": scoring.band_label(band, language)}


def result_urls(result: DiagnosisResult, language: str) -> dict[str, str]:
    query = "?" + urlencode({"lang": language})
    return {"result_url": reverse("diagnosis-result", kwargs={"uuid": result.uuid}) + query,
            "pdf_url": reverse("diagnosis-result-pdf", kwargs={"uuid": result.uuid}) + query}


def result_payload(result: DiagnosisResult, language: str) -> dict[str, Any]:
    """Everything the result page, its PDF and the API show of ``result``, in ``language``."""
    elements = [_scored(e.key, e.name(language), result.scores["elements"][e.key], language) for e in ELEMENTS]
    areas = [_scored(a.key, a.name(language), result.scores["areas"][a.key], language) for a in AREAS]
    by_key = {a.key: a for a in AREAS}
    weakest = []
    for key in scoring.weakest_areas(result.answers, result.scores["areas"]):
        area = by_key[key]
        weakest.append({**_scored(key, area.name(language), result.scores["areas"][key], language),
                        "about": area.about(language), "steps": area.steps(language)})
    organization = result.organization
    return {
        "id": str(result.uuid),
        "created_on": result.created_on.isoformat(),
        "language": language,
        "version": result.version,
        "organization": organization.company_name(language) if organization is not None else None,
        "answers": [{"key": i.key, "text": i.text(language), "answer": result.answers.get(i.key)} for i in ITEMS],
        "elements": elements,
        "areas": areas,
        "weakest": weakest,
        "comparison": mirror_comparison(result, language),
        **result_urls(result, language),
    }
