"""Reads for the reports beyond the count tables (:mod:`reports.counts`): who may read which waves and
report jobs, and response rates.

Light on purpose (no pandas at import): the pages and the URLconf import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from reports.models import ReportJob
from surveys import internal
from surveys import selectors as survey_selectors
from surveys.models import Invitation, InvitationUse, Role, Side, SurveyResponse, Wave

if TYPE_CHECKING:
    import pandas as pd

# Who reads the gap, the web mirror and the PDF reports of their organizations' waves: every member role.
# The one place this is decided (the API's read roles, the pages and the report requests ask here).
REPORT_READERS: frozenset[str] = frozenset({Role.ADMIN, Role.ANALYST, Role.EXECUTIVE})


def report_org_ids(*, user: Any) -> list[int]:
    """The organizations whose reports ``user`` may read."""
    roles = survey_selectors.user_roles(user=user)
    return survey_selectors.org_ids_with_role(roles_by_org=roles, roles=REPORT_READERS)


def readable_waves(*, user: Any) -> QuerySet[Wave]:
    """Waves of the organizations whose reports ``user`` may read (the staff API's wave selector)."""
    return survey_selectors.wave_list(org_ids=report_org_ids(user=user))


def report_job_list(*, org_ids: Iterable[int]) -> QuerySet[ReportJob]:
    """Report jobs of the waves of these organizations."""
    return ReportJob.objects.filter(wave__organization_id__in=list(org_ids)).select_related("wave")


def readable_report_jobs(*, user: Any) -> QuerySet[ReportJob]:
    return report_job_list(org_ids=report_org_ids(user=user))


def response_rates(wave: Wave, responses: pd.DataFrame | None = None) -> dict[str, dict]:
    """Invited and published responses per side (never per person).

    ``responses`` is the wave's released respondent-count table (after
    :func:`reports.disclosed.disclose`), when at hand; otherwise the published
    responses are counted. For staff, the number of used invitations is not
    given: it changes the moment one colleague answers (disclosure promise P4),
    so the rate is published staff responses per invitation.
    """
    out: dict[str, dict] = {}
    for side in (Side.STAFF, Side.CUSTOMER):
        invited = Invitation.objects.filter(wave=wave, side=side).count()
        if responses is not None:
            total = int(responses.loc[responses["side"] == side, "n"].sum()) if len(responses) else 0
        else:
            total = SurveyResponse.objects.filter(wave=wave, side=side, release__isnull=False).count()
        if internal.protected_side(wave, side):
            answered = None
            rate = min(1.0, total / invited) if invited else None
        else:
            answered = InvitationUse.objects.filter(invitation__wave=wave, invitation__side=side).count()
            rate = (answered / invited) if invited else None
        out[side] = {"invited": invited, "answered_invitations": answered, "responses": total, "rate": rate}
    return out
