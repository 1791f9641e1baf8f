"""Reads of the surveys domain: querysets scoped to the organizations a user belongs to.

Visibility is decided here, once: the API's ``get_queryset`` methods call these,
so an object of an organization the user does not belong to is simply absent
(404), never forbidden (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from surveys.models import (
    Answer,
    AuditEvent,
    CustomerAccount,
    Instrument,
    Invitation,
    Membership,
    Organization,
    Role,
    Side,
    SurveyResponse,
    Wave,
)

ALL_ROLES: frozenset[str] = frozenset(Role.values)


def user_roles(*, user: Any) -> dict[int, str]:
    """Organization id → the user's role there (empty for anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    return dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))


def org_ids_with_role(*, roles_by_org: dict[int, str], roles: Iterable[str] = ALL_ROLES) -> list[int]:
    allowed = set(roles)
    return sorted(org_id for org_id, role in roles_by_org.items() if role in allowed)


def organization_list(*, org_ids: Iterable[int]) -> QuerySet[Organization]:
    return Organization.objects.filter(pk__in=list(org_ids)).order_by("name", "pk")


def membership_list(*, org_ids: Iterable[int]) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id__in=list(org_ids))
        .select_related("user", "organization")
        .order_by("organization_id", "user__username", "pk")
    )


def instrument_list(*, org_ids: Iterable[int], include_builtin: bool = True) -> QuerySet[Instrument]:
    """The built-in instruments (organization=None) and those of ``org_ids``."""
    scope = Q(organization_id__in=list(org_ids))
    if include_builtin:
        scope |= Q(organization__isnull=True)
    return Instrument.objects.filter(scope).order_by("organization_id", "key", "version", "pk")


def instrument_detail_queryset(*, org_ids: Iterable[int]) -> QuerySet[Instrument]:
    return instrument_list(org_ids=org_ids).prefetch_related("dimensions", "items__dimension")


def wave_list(*, org_ids: Iterable[int]) -> QuerySet[Wave]:
    return Wave.objects.filter(organization_id__in=list(org_ids)).select_related("instrument", "organization")


def invitation_list(*, wave: Wave) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(wave=wave)
        .select_related("customer_account", "use")
        .order_by("side", "pk")
    )


def invitation_lookup(*, org_ids: Iterable[int]) -> QuerySet[Invitation]:
    return Invitation.objects.filter(wave__organization_id__in=list(org_ids)).select_related(
        "wave", "wave__organization", "customer_account"
    )


def invitations_unanswered(*, wave: Wave, side: str | None = None) -> QuerySet[Invitation]:
    qs = Invitation.objects.filter(wave=wave, use__isnull=True).select_related("wave", "wave__organization")
    if side:
        qs = qs.filter(side=side)
    return qs.order_by("pk")


def response_list(*, wave: Wave, side: str | None = None) -> QuerySet[SurveyResponse]:
    """A wave's responses with their answers; ordered by day and random id so order hints at nothing."""
    qs = SurveyResponse.objects.filter(wave=wave).select_related("customer_account")
    if side:
        qs = qs.filter(side=side)
    answers = Answer.objects.select_related("item").order_by("item__order", "item_id")
    return qs.prefetch_related(Prefetch("answers", queryset=answers)).order_by("submitted_on", "side", "id")


def account_list(*, org_ids: Iterable[int]) -> QuerySet[CustomerAccount]:
    return CustomerAccount.objects.filter(organization_id__in=list(org_ids)).order_by("organization_id", "external_id")


def anonymous_link_urls(*, wave: Wave) -> dict[str, str]:
    base = settings.KAGAMI_PUBLIC_URL
    return {side: f"{base}/s/{wave.slug}/{side}/" for side in Side.values}


def invitation_url(*, token: str) -> str:
    return f"{settings.KAGAMI_PUBLIC_URL}/r/{token}/"


def wave_counts(*, wave: Wave) -> dict[str, dict[str, Any]]:
    """Per side: responses, invitations, answered invitations and the response rate (answered / invited)."""
    responses = dict(
        SurveyResponse.objects.filter(wave=wave).values("side").annotate(n=Count("pk")).values_list("side", "n")
    )
    invited = {
        row["side"]: row
        for row in Invitation.objects.filter(wave=wave)
        .values("side")
        .annotate(n=Count("pk"), answered=Count("use"))
    }
    counts: dict[str, dict[str, Any]] = {}
    for side in Side.values:
        n = invited.get(side, {}).get("n", 0)
        answered = invited.get(side, {}).get("answered", 0)
        counts[side] = {
            "responses": responses.get(side, 0),
            "invitations": n,
            "answered_invitations": answered,
            # None rather than 0 when nobody was invited: there is no rate to report.
            "response_rate": round(answered / n, 4) if n else None,
        }
    return counts


def audit_event_list(*, org_ids: Iterable[int]) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization_id__in=list(org_ids)).select_related("wave").order_by(
        "-created_at", "-id"
    )
