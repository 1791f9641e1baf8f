"""Issuing a single-use invitation (its token handed out once, only its hash stored) and finding one by token."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from surveys import errors, internal
from surveys.models import CustomerAccount, Invitation, Side, Wave, hash_token, new_token
from surveys.services.segments import clean_segments


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its token. The token is never stored; hand it out now or never."""

    invitation: Invitation
    token: str


# A staff invitation's link goes to its invitee only, by email: whoever else kept it could open it later and see
# whether that colleague answered (disclosure promise P1, no linkage). So the API, the Django admin and the
# imports never show one, and refuse staff invitations that no email could deliver.
STAFF_EMAIL_REQUIRED = ("Staff invitations are only delivered by email; use the anonymous staff link for people "
                        "without an address.")

_staff_by_email_only: ContextVar[bool] = ContextVar("staff_invitations_by_email_only", default=False)


@contextmanager
def staff_invitations_by_email_only() -> Iterator[None]:
    """Within this block, ``invitation_create`` refuses a staff invitation without an email address.

    For the callers that create invitations for people (the API, the Django admin, the contact imports),
    which never show a staff link: the invitation's email is its only way to its invitee. Outside it a
    staff invitation without an address stays possible (the demo and tests hand its token over directly).
    """
    reset = _staff_by_email_only.set(True)
    try:
        yield
    finally:
        _staff_by_email_only.reset(reset)


def invitation_create(*, wave: Wave, side: str, email: str = "", name: str = "", language: str | None = None,
                      segments: Mapping[str, Any] | None = None,
                      customer_account: CustomerAccount | None = None) -> IssuedInvitation:
    """Create one single-use invitation and return it with its token.

    Within ``staff_invitations_by_email_only``, a staff invitation without an email address is a
    ValidationFailed naming ``email``.
    """
    if internal.protected_side(wave, side) and customer_account is not None:
        raise errors.ValidationFailed(field_errors={"customer_account": ["Staff invitations have no account."]})
    if side == Side.STAFF and not email.strip() and _staff_by_email_only.get():
        raise errors.ValidationFailed(field_errors={"email": [STAFF_EMAIL_REQUIRED]})
    if customer_account is not None and customer_account.organization_id != wave.organization_id:
        raise errors.ValidationFailed(field_errors={"customer_account": ["Unknown account."]})
    if (internal.is_internal(wave) and side == Side.STAFF
            and not (segments or {}).get(internal.DEPARTMENT_FIELD)):
        raise errors.ValidationFailed(field_errors={f"segments.{internal.DEPARTMENT_FIELD}": [
            "A staff invitation of an internal wave names the serving department its invitee works in."]})
    token = new_token()
    invitation = Invitation.objects.create(
        wave=wave,
        side=side,
        token_hash=hash_token(token),
        email=email,
        name=name,
        language=language or wave.default_language,
        segments=clean_segments(wave=wave, side=side, segments=segments),
        customer_account=customer_account,
    )
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_by_token(*, token: str) -> Invitation:
    """The invitation of a token, or NotFound (which reveals nothing)."""
    if not token or len(token) > 200:
        raise errors.NotFound()
    try:
        # With its use and account: a form post reads both, so they come in the same query.
        return Invitation.objects.select_related(
            "wave", "wave__organization", "wave__instrument", "use", "customer_account"
        ).get(token_hash=hash_token(token))
    except Invitation.DoesNotExist:
        pass
    from surveys import invitation_links  # an earlier link: still working, or revoked (LinkReplaced)

    return invitation_links.invitation_by_earlier_link(token_hash=hash_token(token))
