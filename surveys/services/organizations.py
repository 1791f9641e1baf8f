"""Writes of an organization's lists: its members' roles (never leaving it without an admin) and its customer accounts.

Members join only by accepting an invitation: surveys.member_invitations.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from surveys import errors
from surveys.models import CustomerAccount, Membership, Organization, Role


def _admins_left(*, organization_id: int, excluding: Membership) -> bool:
    return (
        Membership.objects.filter(organization_id=organization_id, role=Role.ADMIN).exclude(pk=excluding.pk).exists()
    )


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role. Raises Conflict ``last_admin`` when that would leave no admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and role != Role.ADMIN and not _admins_left(
        organization_id=locked.organization_id, excluding=locked
    ):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member. Raises Conflict ``last_admin`` for the last admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and not _admins_left(organization_id=locked.organization_id, excluding=locked):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.delete()


ACCOUNT_FIELDS = ("external_id", "name", "tier", "touch_model", "plan", "region", "arr", "status",
                  "customer_since", "churned_on", "renewed_on", "health_score", "health_scored_on")


@transaction.atomic
def account_delete(*, account: CustomerAccount) -> None:
    """Delete a customer account. Its invitations and responses stay, no longer linked to it (SET_NULL):
    the answers count as before, only perception vs churn loses them."""
    account.delete()


@transaction.atomic
def account_save(*, organization: Organization, account: CustomerAccount | None = None,
                 **fields: Any) -> CustomerAccount:
    """Create or change a customer account. Raises ValidationFailed for a duplicate external_id."""
    external_id = fields.get("external_id", account.external_id if account else "")
    clash = CustomerAccount.objects.filter(organization=organization, external_id=external_id)
    if account is not None:
        clash = clash.exclude(pk=account.pk)
    if clash.exists():
        raise errors.ValidationFailed(field_errors={"external_id": ["An account with this external id exists."]})
    account = account or CustomerAccount(organization=organization)
    for name, value in fields.items():
        if name in ACCOUNT_FIELDS:
            setattr(account, name, value)
    account.save()
    return account
