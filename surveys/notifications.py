"""Invitation and reminder emails, through Django's email backend.

Only the SHA-256 of an invitation token is stored, so an email can carry a link
only while the token is at hand: right after ``services.invitation_create``, or
after re-issuing a fresh token here (which makes the previous link stop working).
Texts are plain, in the invitee's language (Japanese or English).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from surveys import errors
from surveys.models import Invitation, Language, Side, Wave, hash_token, new_token
from surveys.selectors import invitation_url, invitations_unanswered
from surveys.services import IssuedInvitation

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
    Language.JA: "以前お送りしたリンクは無効になりました。このメールのリンクをお使いください。\n",
    Language.EN: "The link we sent earlier no longer works; please use the one in this email.\n",
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


def invitation_reissue(*, invitation: Invitation) -> IssuedInvitation:
    """Give an unused invitation a fresh token; its previous link stops working.

    Raises AlreadyAnswered (409) when the invitation was used.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.is_used:
            raise errors.AlreadyAnswered()
        token = new_token()
        locked.token_hash = hash_token(token)
        locked.save(update_fields=["token_hash"])
    invitation.token_hash = locked.token_hash
    return IssuedInvitation(invitation=invitation, token=token)


def _mark_sent(invitation: Invitation, *, reminder: bool) -> None:
    now = timezone.now()
    if reminder:
        Invitation.objects.filter(pk=invitation.pk).update(last_reminded_at=now, reminder_count=F("reminder_count") + 1)
        invitation.last_reminded_at = now
        invitation.reminder_count += 1
    else:
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=now)
        invitation.sent_at = now


@dataclass
class SendReport:
    sent: int = 0
    skipped_no_email: int = 0
    skipped_answered: int = 0
    failed: list[int] = field(default_factory=list)  # invitation ids the backend refused

    def as_dict(self) -> dict:
        return {"sent": self.sent, "skipped_no_email": self.skipped_no_email,
                "skipped_answered": self.skipped_answered, "failed": self.failed}


def invitations_send(*, issued: Iterable[IssuedInvitation], reminder: bool = False,
                     progress: Callable[[], None] | None = None) -> SendReport:
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
    if not wave.is_collecting:
        raise errors.Conflict("Invitations and reminders go out only while the wave is open.", code="wave_not_open")


def invitations_to_send(*, wave: Wave, side: str | None = None, reminder: bool = False) -> list[Invitation]:
    """Never-sent invitations with an email, or (reminders) sent ones not yet answered."""
    qs = invitations_unanswered(wave=wave, side=side).exclude(email="")
    qs = qs.filter(sent_at__isnull=not reminder)
    return list(qs)


def invitations_deliver(*, wave: Wave, side: str | None = None, reminder: bool = False,
                        progress: Callable[[], None] | None = None,
                        invitations: list[Invitation] | None = None) -> SendReport:
    """Send never-sent invitations, or reminders to those sent but not answered (open waves only).

    Each gets a fresh token, since the stored hash cannot be turned back into a link.
    Raises Conflict ``wave_not_open`` unless the wave is open.
    """
    _require_open(wave)
    targets = invitations if invitations is not None else invitations_to_send(wave=wave, side=side,
                                                                                reminder=reminder)
    report = SendReport()
    issued: list[IssuedInvitation] = []
    for invitation in targets:
        try:
            issued.append(invitation_reissue(invitation=invitation))
        except errors.AlreadyAnswered:
            # Answered between the query and now: nothing to send.
            report.skipped_answered += 1
            if progress:
                progress()
    sent = invitations_send(issued=issued, reminder=reminder, progress=progress)
    sent.skipped_answered += report.skipped_answered
    return sent
