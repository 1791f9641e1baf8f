"""Reads for the reports beyond the count tables (:mod:`reports.counts`): response rates."""

from __future__ import annotations

import pandas as pd

from surveys.models import Invitation, InvitationUse, Side, SurveyResponse, Wave


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
        if side == Side.STAFF:
            answered = None
            rate = min(1.0, total / invited) if invited else None
        else:
            answered = InvitationUse.objects.filter(invitation__wave=wave, invitation__side=side).count()
            rate = (answered / invited) if invited else None
        out[side] = {"invited": invited, "answered_invitations": answered, "responses": total, "rate": rate}
    return out
