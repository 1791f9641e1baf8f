"""Invitation links that survive newer emails, and the reminder cool-down (issue 13, item 8).

Only the SHA-256 of a token is stored and an email needs the token itself, so every mailing of an
invitation (first mailing, reminder, resend) issues a new token. What becomes of the earlier links:

* Reminders, resends and first mailings keep them WORKING (option (i)): the replaced hash moves to
  ``InvitationLink`` (``active``) and still opens the same invitation. A link returned by the API or
  mailed earlier keeps working until the invitation is used or the wave closes. Exactly once stays:
  ``InvitationUse`` is keyed by the invitation, so its links together are used once in total.
* An admin's explicit reissue (``POST /api/v1/invitations/{id}/reissue/``) REVOKES them (option (ii)):
  their hashes stay, inactive, so such a link is recognised and its page says "A newer e-mail replaced
  this link; please use the most recent invitation e-mail" (410 ``link_replaced``) instead of the plain
  404 of an unknown link. For a link that leaked, or a mailbox that changed hands.
* Links replaced before this table existed are unknown: a plain 404.

Staff invitations stay delivery-only (docs/anonymity.md P1): their tokens are only ever mailed, and a
used staff invitation gets no new link (so nothing is superseded or revoked for it).

The cool-down: a reminder skips an invitation mailed less than ``KAGAMI_REMINDER_COOLDOWN_HOURS``
(default 24; 0 switches it off) ago, counted from ``Invitation.last_sent_at`` (any mailing), and
reports it as skipped with the reason ``cooldown``. For staff, ``last_sent_at`` is set on every
invitation a round goes through, answered or not, so who is skipped never depends on who answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from surveys import errors
from surveys.models import Invitation, InvitationLink, Language, hash_token, new_token

DEFAULT_COOLDOWN_HOURS = 24
COOLDOWN = "cooldown"

# The page of a revoked link (kept here rather than in the .po file, like tickets.py's messages).
_REPLACED_MESSAGES = {
    Language.EN: ("A newer e-mail replaced this link",
                  "A newer e-mail replaced this link; please use the most recent invitation e-mail. "
                  "Nothing was saved through this one."),
    Language.JA: ("このリンクは新しいメールのリンクに置き換えられました",
                  "このリンクは新しいメールのリンクに置き換えられました。最新の招待メールのリンクからご回答ください。"
                  "このリンクからは何も保存されていません。"),
}


def replaced_message(language: str | None) -> tuple[str, str]:
    """(heading, paragraph) of the page of a revoked link."""
    return _REPLACED_MESSAGES.get(language or "", _REPLACED_MESSAGES[Language.EN])


def cooldown() -> timedelta:
    return timedelta(hours=float(getattr(settings, "KAGAMI_REMINDER_COOLDOWN_HOURS", DEFAULT_COOLDOWN_HOURS)))


def invitation_by_earlier_link(*, token_hash: str) -> Invitation:
    """The invitation of an earlier (replaced) link: still working, LinkReplaced if revoked, else NotFound."""
    try:
        link = InvitationLink.objects.select_related(
            "invitation", "invitation__wave", "invitation__wave__organization", "invitation__wave__instrument",
            "invitation__use", "invitation__customer_account",
        ).get(token_hash=token_hash)
    except InvitationLink.DoesNotExist:
        raise errors.NotFound() from None
    if not link.active:
        replaced = errors.LinkReplaced()
        replaced.language = link.invitation.language  # the page speaks the invitee's language
        raise replaced
    return link.invitation


def replace_token(locked: Invitation, *, token: str, keep_previous: bool) -> None:
    """Give ``locked`` (a row locked by the caller's transaction) the new ``token`` (a ``new_token()``).

    ``keep_previous``: the current link keeps working (reminders, resends). Otherwise it and every
    earlier link are revoked: recognised, dead, "a newer e-mail replaced this link".
    """
    InvitationLink.objects.create(invitation=locked, token_hash=locked.token_hash, active=keep_previous)
    if not keep_previous:
        InvitationLink.objects.filter(invitation=locked, active=True).update(active=False)
    locked.token_hash = hash_token(token)
    locked.save(update_fields=["token_hash"])


def invitation_reissue(*, invitation: Invitation, keep_previous: bool = True) -> str:
    """Give an unused invitation a fresh token, and return it (the one moment it exists: mail it now).

    ``keep_previous``: its earlier links keep working (mailings, reminders, resends); else they are
    revoked, and their page says a newer email replaced them (an admin's reissue).
    Raises AlreadyAnswered (409) when the invitation was used.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.is_used:
            raise errors.AlreadyAnswered()
        token = new_token()
        replace_token(locked, token=token, keep_previous=keep_previous)
    invitation.token_hash = locked.token_hash
    return token


def split_by_cooldown(invitations: Iterable[Invitation], *,
                      now: datetime | None = None) -> tuple[list[Invitation], list[dict]]:
    """(due for a reminder, skipped rows) — an invitation mailed within the cool-down is skipped."""
    now = now or timezone.now()
    wait = cooldown()
    due: list[Invitation] = []
    skipped: list[dict] = []
    for invitation in invitations:
        last = invitation.last_sent_at
        if wait > timedelta(0) and last is not None and last + wait > now:
            skipped.append({"invitation": invitation.pk, "side": invitation.side, "reason": COOLDOWN,
                            "next_reminder_at": last + wait})
        else:
            due.append(invitation)
    return due, skipped
