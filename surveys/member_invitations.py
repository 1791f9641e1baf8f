"""Joining an organization: an admin invites an e-mail address, the person accepts (issue 13).

Nothing here looks up users by the invited address while inviting: the answer to an admin is the
same whoever (if anyone) has it, in this or any other organization. The only check is against the
inviting organization's own members, whom its admins see anyway. Nobody becomes a member until
they accept at /accounts/join/<token>/ (surveys.join), and accepting works exactly once: a
conditional update claims the invitation, so a second accept (a double click, a stale copy, two
browsers) changes nothing. Only the SHA-256 of a token is stored; the token exists in the mail.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from surveys import errors
from surveys.models import (
    AuditEvent,
    Language,
    Membership,
    MembershipInvitation,
    Organization,
    Role,
    hash_token,
    new_token,
)
from surveys.services import audit_record

logger = logging.getLogger(__name__)

VALID_FOR = timedelta(days=7)


class InvitationUnusable(errors.Conflict):
    """The invitation can no longer be accepted (or resent)."""

    status = 410


class InvitationExpired(InvitationUnusable):
    code = "invitation_expired"
    default_detail = "This invitation has expired; ask an admin of the organization for a new one."


class InvitationRevoked(InvitationUnusable):
    code = "invitation_revoked"
    default_detail = "This invitation was withdrawn."


class InvitationUsed(InvitationUnusable):
    code = "invitation_used"
    default_detail = "This invitation has already been used."


class AlreadyMember(errors.Conflict):
    code = "already_member"
    default_detail = "You are already a member of this organization."


_UNUSABLE = {"expired": InvitationExpired, "revoked": InvitationRevoked, "accepted": InvitationUsed}


def join_url(*, token: str) -> str:
    return f"{settings.KAGAMI_PUBLIC_URL}/accounts/join/{token}/"


def normalize_email(email: str) -> str:
    return BaseUserManager.normalize_email(email.strip())


# --------------------------------------------------------------------------- selectors


def invitation_list(*, org_ids: list[int]) -> QuerySet[MembershipInvitation]:
    return MembershipInvitation.objects.filter(organization_id__in=list(org_ids)).order_by(
        "organization_id", "-created_at", "-id")


def filter_status(queryset: QuerySet[MembershipInvitation], status: str) -> QuerySet[MembershipInvitation]:
    now = timezone.now()
    undecided = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    return queryset.filter({
        "pending": undecided & Q(expires_at__gt=now),
        "expired": undecided & Q(expires_at__lte=now),
        "accepted": Q(accepted_at__isnull=False),
        "revoked": Q(revoked_at__isnull=False),
    }[status])


def find(*, token: str) -> MembershipInvitation | None:
    """The invitation of a link's token, whatever its state; None for a token that is nobody's."""
    if not token or len(token) > 128:
        return None
    return (MembershipInvitation.objects.select_related("organization")
            .filter(token_hash=hash_token(token)).first())


def account_exists(*, invitation: MembershipInvitation) -> bool:
    """Whether someone already has an account with the invited address: the join page then asks them to
    log in. Only the holder of the link (the mailbox's owner) ever learns this."""
    return get_user_model().objects.filter(email__iexact=invitation.email).exists()


# --------------------------------------------------------------------------- the admins' side


def invite(*, organization: Organization, email: str, role: str, invited_by: Any,
           language: str = Language.JA) -> MembershipInvitation:
    """Invite an address to join ``organization`` with ``role`` and mail it the link.

    A pending invitation of the same address to the same organization is revoked (one link at a time).
    Raises ValidationFailed when a member of the organization already has the address.
    """
    email = normalize_email(email)
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise errors.ValidationFailed(field_errors={"email": ["A member of this organization has this address."]})
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        filter_status(MembershipInvitation.objects.filter(organization=organization, email__iexact=email),
                      "pending").update(revoked_at=now)
        invitation = MembershipInvitation.objects.create(
            organization=organization, email=email, role=role, language=language, token_hash=hash_token(token),
            invited_by=invited_by, created_at=now, expires_at=now + VALID_FOR)
        _audit(invitation, invited_by, AuditEvent.Action.MEMBER_INVITE)
    _send(invitation, token)
    return invitation


def resend(*, invitation: MembershipInvitation, user: Any) -> MembershipInvitation:
    """Mail a fresh link (valid for another VALID_FOR); the previous link stops working.

    An expired invitation may be resent; a used or revoked one is a Conflict (409).
    """
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        locked = MembershipInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise errors.Conflict("This invitation has already been used.", code="invitation_used")
        if locked.revoked_at is not None:
            raise errors.Conflict("This invitation was revoked; invite the address again.", code="invitation_revoked")
        locked.token_hash = hash_token(token)
        locked.expires_at = now + VALID_FOR
        locked.save(update_fields=["token_hash", "expires_at"])
        _audit(locked, user, AuditEvent.Action.MEMBER_INVITE_RESEND)
    _send(locked, token)
    return locked


def revoke(*, invitation: MembershipInvitation, user: Any) -> None:
    """Withdraw an invitation: its link stops working. Revoking twice is harmless; a used one is a 409."""
    with transaction.atomic():
        locked = MembershipInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise errors.Conflict("This invitation has already been used; remove the member instead.",
                                  code="invitation_used")
        if locked.revoked_at is not None:
            return
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        _audit(locked, user, AuditEvent.Action.MEMBER_INVITE_REVOKE)


# --------------------------------------------------------------------------- the invitee's side


def check_usable(invitation: MembershipInvitation) -> None:
    """Raises InvitationExpired, InvitationRevoked or InvitationUsed (410) unless it can be accepted."""
    if invitation.status in _UNUSABLE:
        raise _UNUSABLE[invitation.status]()


@transaction.atomic
def accept(*, invitation: MembershipInvitation, user: Any) -> Membership:
    """Make ``user`` a member with the invited role (never another). Exactly once: the invitation is
    claimed by a conditional update, so of two concurrent accepts only one creates a membership.

    Raises AlreadyMember (409) for a member (the invitation stays usable, for someone else), else
    InvitationExpired/Revoked/Used (410).
    """
    if Membership.objects.filter(organization_id=invitation.organization_id, user=user).exists():
        raise AlreadyMember()
    now = timezone.now()
    claimed = MembershipInvitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now,
    ).update(accepted_at=now, accepted_by=user)
    if not claimed:
        invitation.refresh_from_db()
        check_usable(invitation)
        raise InvitationUsed()  # not reached: whatever refused the claim shows in the status
    try:
        with transaction.atomic():
            membership = Membership.objects.create(organization_id=invitation.organization_id, user=user,
                                                   role=invitation.role)
    except IntegrityError:  # joined through another invitation at the same moment
        raise AlreadyMember() from None
    invitation.accepted_at, invitation.accepted_by = now, user
    _audit(invitation, user, AuditEvent.Action.MEMBER_JOIN)
    return membership


@transaction.atomic
def sign_up_and_accept(*, invitation: MembershipInvitation, username: str, password: str) -> Any:
    """Create an account with the invited address and accept with it; neither happens without the other.

    The password has been through Django's validators (surveys.join's form).
    """
    user = get_user_model().objects.create_user(username=username, email=invitation.email, password=password)
    accept(invitation=invitation, user=user)
    return user


# --------------------------------------------------------------------------- audit and mail


def _audit(invitation: MembershipInvitation, user: Any, action: str) -> None:
    audit_record(organization_id=invitation.organization_id, user=user, action=action,
                 details={"invitation": invitation.pk, "email": invitation.email, "role": invitation.role})


_SUBJECTS = {
    Language.JA: "【{company}】Kagami へのご招待",
    Language.EN: "{company}: you are invited to join Kagami",
}

_BODIES = {
    Language.JA: (
        "{company} から、Kagami（社内と顧客の認識ギャップ調査）への参加のご招待が届いています。\n"
        "役割: {role}\n\n"
        "以下のリンクから参加してください（{expires} まで有効、1回限り）。\n\n"
        "{link}\n\n"
        "Kagami のアカウントをお持ちの方はログインして承認してください。お持ちでない方は、このページで"
        "アカウントを作成できます。\n"
        "お心当たりのない場合は、このメールを破棄してください。\n"
    ),
    Language.EN: (
        "{company} invites you to join Kagami (staff and customer perception-gap surveys).\n"
        "Role: {role}\n\n"
        "Please join through this link (valid until {expires}, once):\n\n"
        "{link}\n\n"
        "If you have a Kagami account, log in and accept; if not, you can create one on that page.\n"
        "If you did not expect this invitation, you can ignore this e-mail.\n"
    ),
}

_ROLES = {
    Language.JA: {Role.ADMIN: "管理者", Role.ANALYST: "アナリスト", Role.EXECUTIVE: "経営層"},
    Language.EN: {Role.ADMIN: "Admin", Role.ANALYST: "Analyst", Role.EXECUTIVE: "Executive"},
}


def invitation_message(*, invitation: MembershipInvitation, token: str) -> mail.EmailMessage:
    """The invitation e-mail, in the invitation's language (Japanese or English)."""
    lang = Language.JA if invitation.language == Language.JA else Language.EN
    company = invitation.organization.company_name(lang)
    expires = timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M")
    body = _BODIES[lang].format(company=company, role=_ROLES[lang][Role(invitation.role)],
                                link=join_url(token=token), expires=expires)
    return mail.EmailMessage(subject=_SUBJECTS[lang].format(company=company), body=body,
                             from_email=settings.DEFAULT_FROM_EMAIL, to=[invitation.email])


def _send(invitation: MembershipInvitation, token: str) -> None:
    """Mail the link and record sent_at; a refused mail is logged (sent_at stays empty) and can be resent."""
    try:
        invitation_message(invitation=invitation, token=token).send()
    except Exception:  # noqa: BLE001 — the invitation exists; the admin sees sent_at empty and may resend
        logger.warning("The mail server refused membership invitation #%s.", invitation.pk)
        return
    invitation.sent_at = timezone.now()
    MembershipInvitation.objects.filter(pk=invitation.pk).update(sent_at=invitation.sent_at)
