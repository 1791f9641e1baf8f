"""Invitation and reminder emails, through Django's email backend.

Only the SHA-256 of an invitation token is stored, so an email can carry a link
only while the token is at hand: right after ``services.invitation_create``, or
after ``invitation_links.invitation_reissue`` gave it a fresh one. Earlier links keep working after a mailing,
reminder or resend, and die (recognised) only on an admin's reissue; reminders
skip invitations mailed within the cool-down (surveys/invitation_links.py).
Texts are plain, in the invitee's language (Japanese or English).

Staff invitations (disclosure promise P1, no linkage): reminders still reach only
the staff who have not answered, but nothing reports who or how many they were, nor
whether resending one mailed it; see ``invitations_deliver``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import mail
from django.db.models import F, Q
from django.utils import timezone

from surveys import errors, internal, invitation_batches, invitation_links
from surveys.models import Invitation, Language, Side, Wave
from surveys.selectors import invitation_url
from surveys.services import IssuedInvitation

logger = logging.getLogger(__name__)

_SUBJECTS = {
    (Side.STAFF, Language.JA, False): "【{company}】社内アンケートご協力のお願い",
    (Side.STAFF, Language.EN, False): "{company}: please share your view in our internal survey",
    (Side.CUSTOMER, Language.JA, False): "【{company}】アンケートご協力のお願い",
    (Side.CUSTOMER, Language.EN, False): "{company} would like to hear from you",
    (Side.STAFF, Language.JA, True): "【リマインダー】{company} 社内アンケート",
    (Side.STAFF, Language.EN, True): "Reminder: {company} internal survey",
    (Side.CUSTOMER, Language.JA, True): "【リマインダー】{company} アンケート",
    (Side.CUSTOMER, Language.EN, True): "Reminder: {company} would like to hear from you",
}

_BODIES = {
    Language.JA: (
        "{greeting}\n\n"
        "{intro}\n"
        "所要時間は5分ほどです。以下のリンクからご回答ください。\n\n"
        "{link}\n\n"
        "このリンクはあなた専用で、1回だけ使えます。{anonymity}\n"
        "{reminder}"
        "\n{company}\n"
    ),
    Language.EN: (
        "{greeting}\n\n"
        "{intro}\n"
        "It takes about five minutes. Please answer through this link:\n\n"
        "{link}\n\n"
        "This link is yours alone and works once.{anonymity}\n"
        "{reminder}"
        "\n{company}\n"
    ),
}

_INTROS = {
    (Side.STAFF, Language.JA): "{company}では、私たちの顧客志向について社内の皆さんの見方を伺っています。",
    (Side.STAFF, Language.EN): "{company} is asking everyone how customer-focused we are.",
    (Side.CUSTOMER, Language.JA): "{company}について、お客様からみた率直なご意見をお聞かせください。",
    (Side.CUSTOMER, Language.EN): "We would value your candid view of how {company} serves you.",
}

_ANONYMITY = {
    (Side.STAFF, Language.JA): "回答は匿名で集計され、誰の回答かは分かりません。",
    (Side.STAFF, Language.EN): " Answers are anonymous: nobody can tell which answers are yours.",
    (Side.CUSTOMER, Language.JA): "",
    (Side.CUSTOMER, Language.EN): "",
}

_REMINDER = {
    Language.JA: "以前お送りしたリンクも引き続きお使いいただけます（ご回答は1回のみです）。\n",
    Language.EN: "The link we sent earlier still works too (you can answer once).\n",
}


def _lang(language: str) -> Language:
    return Language.JA if language == Language.JA else Language.EN


def invitation_message(*, invitation: Invitation, token: str, reminder: bool = False) -> mail.EmailMessage:
    """The email of one invitation (or reminder), in the invitee's language."""
    lang = _lang(invitation.language)
    side = Side(invitation.side)
    company = invitation.wave.organization.company_name(lang)
    if lang == Language.JA:
        greeting = f"{invitation.name} 様" if invitation.name else "ご担当者様"
    else:
        greeting = f"Dear {invitation.name}," if invitation.name else "Hello,"
    body = _BODIES[lang].format(
        greeting=greeting,
        intro=_INTROS[(side, lang)].format(company=company),
        link=invitation_url(token=token),
        anonymity=_ANONYMITY[(side, lang)],
        reminder=_REMINDER[lang] if reminder else "",
        company=company,
    )
    subject = _SUBJECTS[(side, lang, reminder)].format(company=company)
    return mail.EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                             to=[invitation.email])


def _issue(invitation: Invitation, *, keep_previous: bool = True) -> IssuedInvitation:
    """A fresh token for an unused invitation (surveys.invitation_links), ready to mail."""
    token = invitation_links.invitation_reissue(invitation=invitation, keep_previous=keep_previous)
    return IssuedInvitation(invitation=invitation, token=token)


def _mark_sent(invitation: Invitation, *, reminder: bool) -> None:
    now = timezone.now()
    if reminder:
        Invitation.objects.filter(pk=invitation.pk).update(last_reminded_at=now, reminder_count=F("reminder_count") + 1,
                                                           last_sent_at=now)
        invitation.last_reminded_at = now
        invitation.reminder_count += 1
    else:
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=now, last_sent_at=now)
        invitation.sent_at = now
    invitation.last_sent_at = now


@dataclass
class SendReport:
    """What a mailing did. From invitations_deliver, the counts and ids are the customers' only: staff
    invitations are counted in ``staff`` (how many the round went through, answered or not), never by
    outcome — how many were mailed is how many have not answered (disclosure promise P1, no linkage)."""

    sent: int = 0
    skipped_no_email: int = 0
    skipped_answered: int = 0
    failed: list[int] = field(default_factory=list)  # invitation ids the backend refused
    staff: int = 0
    # Reminders: invitations within the cool-down, not mailed ({"invitation", "side", "reason",
    # "next_reminder_at"}). Staff ones too: who is skipped does not depend on who answered (P1).
    skipped: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "skipped_no_email": self.skipped_no_email,
                "skipped_answered": self.skipped_answered, "failed": self.failed}


def invitations_send(*, issued: Iterable[IssuedInvitation], reminder: bool = False,
                     progress: Callable[..., None] | None = None) -> SendReport:
    """Email each issued invitation (token at hand) and record sent_at, or the reminder."""
    report = SendReport()
    with mail.get_connection() as connection:
        for item in issued:
            invitation = item.invitation
            if not invitation.email:
                report.skipped_no_email += 1
            else:
                message = invitation_message(invitation=invitation, token=item.token, reminder=reminder)
                message.connection = connection
                try:
                    message.send()
                except Exception:  # noqa: BLE001 — one bad address must not stop a mailing
                    report.failed.append(invitation.pk)
                else:
                    _mark_sent(invitation, reminder=reminder)
                    report.sent += 1
            if progress:
                progress()
    return report


def _require_open(wave: Wave) -> None:
    invitation_batches.check_wave_sends(wave)  # the one rule for when mails may go out


def invitations_to_send(*, wave: Wave, side: str | None = None, reminder: bool = False) -> list[Invitation]:
    """The invitations a mailing goes through: never-sent ones with an address, or (reminders) sent ones.

    Customers: only those not answered. Staff: all of them, answered or not, so that neither this list
    nor its length says who answered (P1); invitations_deliver mails only the staff who have not.
    """
    qs = (
        Invitation.objects.filter(wave=wave, sent_at__isnull=not reminder)
        .filter(internal.protected_q() | Q(use__isnull=True))
        .exclude(email="")
        .select_related("wave", "wave__organization")
    )
    if side:
        qs = qs.filter(side=side)
    return list(qs.order_by("pk"))


def _staff_deliver(invitations: list[Invitation], *, reminder: bool, keep_previous: bool = True) -> None:
    """Mail the staff invitations (with an address) that were not used, each with a fresh link.

    Says nothing about any of them (P1): a used one is passed over silently, and a refused email is not
    reported either (only ever an unused one can be refused). An invitation (not a reminder) marks every
    one of them sent at the same moment, mailed or not, so that sent_at and the status shown never differ
    between answered and not; a reminder records itself on those mailed (never shown for staff).
    """
    if not invitations:
        return
    issued: list[IssuedInvitation] = []
    for invitation in invitations:
        try:
            issued.append(_issue(invitation, keep_previous=keep_previous))
        except errors.AlreadyAnswered:
            continue
    with mail.get_connection() as connection:  # opened (or failing) whether anyone is mailed or not
        for item in issued:
            message = invitation_message(invitation=item.invitation, token=item.token, reminder=reminder)
            message.connection = connection
            try:
                message.send()
            except Exception:  # noqa: BLE001 — one bad address must not stop a mailing
                logger.warning("The mail server refused a staff %s (not identified: P1).",
                               "reminder" if reminder else "invitation")
            else:
                if reminder:
                    _mark_sent(item.invitation, reminder=True)
    # One moment for all, mailed or not (answered or not): the reminder cool-down counts from it (P1).
    now = timezone.now()
    fields = {"last_sent_at": now} if reminder else {"sent_at": now, "last_sent_at": now}
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(**fields)
    for invitation in invitations:
        for name, value in fields.items():
            setattr(invitation, name, value)


def staff_invitation_resend(*, invitation: Invitation, keep_previous: bool = True) -> bool:
    """Send a staff invitation again: mailed with a fresh link unless it was used, which nothing tells (P1).

    Either way its sent_at becomes now. Returns whether it has an address (then it counts as sent); one
    without an address keeps its link, since no new link would reach anyone. Open waves only.
    ``keep_previous`` False (an admin's reissue) revokes the earlier links of an unused one.
    """
    _require_open(invitation.wave)
    if not invitation.email:
        return False
    _staff_deliver([invitation], reminder=False, keep_previous=keep_previous)
    return True


def invitations_deliver(*, wave: Wave, side: str | None = None, reminder: bool = False,
                        progress: Callable[..., None] | None = None,
                        invitations: list[Invitation] | None = None) -> SendReport:
    """Send never-sent invitations, or reminders to those sent but not answered (open waves only).

    Each gets a fresh token, since the stored hash cannot be turned back into a link; its earlier links
    keep working. Reminders skip invitations mailed within the cool-down (``SendReport.skipped``;
    surveys/invitation_links.py). Customers are
    counted by outcome; staff only by how many the mailing went through (``SendReport.staff``), answered
    or not (P1). ``progress`` is called once per customer and once for all staff (with their number).
    Raises Conflict ``wave_not_open`` unless the wave is open.
    """
    _require_open(wave)
    targets = invitations if invitations is not None else invitations_to_send(wave=wave, side=side,
                                                                                reminder=reminder)
    skipped: list[dict] = []
    if reminder:
        targets, skipped = invitation_links.split_by_cooldown(targets)
        if progress and skipped:
            progress(len(skipped))
    customers = [invitation for invitation in targets
                 if not internal.protected_side(invitation.wave, invitation.side)]
    staff = [invitation for invitation in targets if internal.protected_side(invitation.wave, invitation.side)]
    report = SendReport()
    issued: list[IssuedInvitation] = []
    for invitation in customers:
        try:
            issued.append(_issue(invitation))
        except errors.AlreadyAnswered:
            # Answered between the query and now: nothing to send.
            report.skipped_answered += 1
            if progress:
                progress()
    sent = invitations_send(issued=issued, reminder=reminder, progress=progress) if customers else report
    sent.skipped_answered = report.skipped_answered
    sent.skipped = skipped
    _staff_deliver(staff, reminder=reminder)
    sent.staff = len(staff)
    if progress and staff:
        progress(len(staff))
    return sent


@dataclass
class SentAgain:
    """One invitation mailed again: whether it was mailed, and for a customer the new link's token."""

    invitation: Invitation
    sent: bool
    token: str | None = None


def invitation_send_again(*, invitation: Invitation, keep_previous: bool) -> SentAgain:
    """Mail one invitation again: a resend (``keep_previous``) or an admin's reissue (earlier links revoked).

    Customers: 409 ``already_answered`` when it was used, else a new link, mailed. Staff (P1): the same
    answer used or not, never a token (a used one is not mailed and its links are left as they are).
    Either: 409 ``wave_not_open`` unless the wave is open.
    """
    if internal.protected_side(invitation.wave, invitation.side):
        invitation_batches.check_wave_sends(invitation.wave)
        sent = staff_invitation_resend(invitation=invitation, keep_previous=keep_previous)
        invitation.refresh_from_db()
        return SentAgain(invitation=invitation, sent=sent)
    if invitation.is_used:
        raise errors.AlreadyAnswered()
    invitation_batches.check_wave_sends(invitation.wave)
    issued = _issue(invitation, keep_previous=keep_previous)
    report = invitations_send(issued=[issued])
    return SentAgain(invitation=issued.invitation, sent=report.sent == 1, token=issued.token)
