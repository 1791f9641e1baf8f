"""The diagnosis's writes: a result from answers, and an organization's links.

One rule for every way in (the HTML form, the public API, the demo): ``result_submit`` checks the
answers (every item, whole numbers 1–5; diagnosis.scoring), scores them and stores them with the day
only. Links are created and switched off here; their tokens exist only in the creator's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from diagnosis import scoring
from diagnosis.models import DiagnosisLink, DiagnosisResult
from diagnosis.questions import LANGUAGES, SCALE_MAX, SCALE_MIN, VERSION
from surveys import errors
from surveys.models import Organization, hash_token, new_token

MESSAGES = {
    scoring.MISSING: "Every statement needs an answer: a diagnosis with gaps cannot be compared.",
    scoring.NOT_A_NUMBER: f"Give a whole number from {SCALE_MIN} to {SCALE_MAX}.",
    scoring.OUT_OF_RANGE: f"The answer must be from {SCALE_MIN} (strongly disagree) to {SCALE_MAX} (strongly agree).",
    scoring.UNKNOWN: "Not a statement of this questionnaire.",
}
LABEL_MAX = DiagnosisLink._meta.get_field("label").max_length


class AnswersInvalid(errors.ValidationFailed):
    """Some answers are missing or out of range; ``problems`` maps item key → scoring problem code."""

    default_detail = "Some answers are missing or not valid."

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__(field_errors={f"answers.{key}": [MESSAGES[code]] for key, code in problems.items()})


def result_submit(*, answers: Any, language: str, link: DiagnosisLink | None = None) -> DiagnosisResult:
    """Check, score and store one diagnosis. Raises AnswersInvalid (nothing stored) or ValidationFailed."""
    if language not in LANGUAGES:
        raise errors.ValidationFailed(field_errors={"language": ["Use 'ja' or 'en'."]})
    if not isinstance(answers, Mapping):
        raise errors.ValidationFailed(field_errors={"answers": ["An object of item key → answer 1–5."]})
    clean, problems = scoring.check_answers(answers)
    if problems:
        raise AnswersInvalid(problems)
    scores = scoring.score(clean)
    return DiagnosisResult.objects.create(
        organization_id=link.organization_id if link is not None else None, link=link, language=language,
        version=VERSION, answers=clean, scores=scores.as_json())


def link_create(*, organization: Organization, label: str = "", token: str | None = None) -> tuple[DiagnosisLink, str]:
    """A new active link of ``organization`` and its token (shown once; only its hash is stored).

    ``token`` is for the demo, which derives its link's token so it can print it on every run.
    """
    label = str(label or "").strip()
    if len(label) > LABEL_MAX:
        raise errors.ValidationFailed(field_errors={"label": [f"At most {LABEL_MAX} characters."]})
    token = token or new_token()
    link = DiagnosisLink.objects.create(organization=organization, label=label, token_hash=hash_token(token))
    return link, token


@transaction.atomic
def link_deactivate(*, link: DiagnosisLink) -> DiagnosisLink:
    """Switch a link off for good: it opens nothing, and its results no longer show the mirror."""
    link = DiagnosisLink.objects.select_for_update().get(pk=link.pk)
    if link.is_active:
        link.is_active = False
        link.save(update_fields=["is_active"])
    return link
