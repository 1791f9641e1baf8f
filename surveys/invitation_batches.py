"""Inviting many people at once: the rules each contact must meet, and the all-or-nothing batch.

One place for the rules, so the API's bulk create (``POST /waves/{id}/invitations/``) and the
file import (``surveys.imports.import_invitations``) cannot drift apart: an address invited
once per wave and side, staff only by e-mail (disclosure promise P1), accounts for customers
only and of the wave's organisation, one of the wave's languages, segment values the wave
accepts. Each rule answers with the field it concerns, so both callers can name it (the API as
``contacts[i].<field>``, the import as row and column).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from surveys import errors, services
from surveys.models import CustomerAccount, Invitation, Side, Wave, WaveStatus


def check_wave_accepts_invitations(wave: Wave, *, send: bool) -> None:
    """Invitations are created while a wave is not closed (409 ``wave_closed``), and mailed only while it is open."""
    if wave.status == WaveStatus.CLOSED:
        raise errors.Conflict("This wave is closed.", code="wave_closed")
    if send:
        check_wave_sends(wave)


def check_wave_sends(wave: Wave) -> None:
    """Invitation mails (first, reminder, resend) go out only while the wave is open (409 ``wave_not_open``)."""
    if not wave.is_collecting:
        raise errors.Conflict("Invitations are sent only while the wave is open; create them now and send later.",
                              code="wave_not_open")


@dataclass
class Contact:
    email: str = ""
    name: str = ""
    language: str = ""
    account: str = ""  # the customer account's external id
    segments: Mapping[str, Any] | None = None


class ContactRules:
    """The checks of one batch for one wave and side; remembers the addresses seen so far in the batch."""

    def __init__(self, wave: Wave, side: str, *, staff_email_required: bool = True):
        self.wave, self.side, self.staff_email_required = wave, side, staff_email_required
        self._accounts: dict[str, CustomerAccount] | None = None
        self.taken = {e.lower() for e in Invitation.objects.filter(wave=wave, side=side).exclude(email="")
                      .values_list("email", flat=True)}
        self.first_seen: dict[str, str] = {}  # address → the batch position that first gave it

    def account(self, external_id: str) -> CustomerAccount | None:
        if self._accounts is None:
            self._accounts = {a.external_id: a for a in
                              CustomerAccount.objects.filter(organization_id=self.wave.organization_id)}
        return self._accounts.get(external_id)

    def problems(self, contact: Contact, position: str) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """(field → messages, the invitation's fields when there is no problem) for one contact.

        ``position`` names the contact in messages about an address given twice ("row 3", "contacts[0]").
        """
        found: dict[str, list[str]] = {}
        email = contact.email.strip()
        if not email and self.side == Side.STAFF and self.staff_email_required:
            found["email"] = [services.STAFF_EMAIL_REQUIRED]
        if email:
            folded = email.lower()
            if folded in self.first_seen:
                found["email"] = [f"'{email}' also appears in {self.first_seen[folded]}."]
            elif folded in self.taken:
                found["email"] = [f"'{email}' is already invited to this wave ({self.side})."]
            self.first_seen.setdefault(folded, position)
        account = None
        if contact.account:
            if self.side == Side.STAFF:
                found["account"] = ["Staff invitations carry no account (staff answers stay anonymous)."]
            elif (account := self.account(contact.account)) is None:
                found["account"] = [f"No customer account with external id '{contact.account}'."]
        if contact.language and contact.language not in self.wave.languages:
            found["language"] = [f"Not one of this wave's languages: {', '.join(self.wave.languages)}."]
        segments: dict = {}
        try:
            segments = services.clean_segments(wave=self.wave, side=self.side, segments=contact.segments)
        except errors.ValidationFailed as exc:
            found.update(exc.field_errors)
        return found, {"email": email, "name": contact.name, "language": contact.language or None,
                       "segments": segments, "customer_account": account}


@transaction.atomic
@services.staff_invitations_by_email_only()
def invitations_create_batch(*, wave: Wave, side: str, contacts: Iterable[Contact]) -> list[services.IssuedInvitation]:
    """Create one invitation per contact, all or nothing: any bad contact is a ValidationFailed naming
    ``contacts[i].<field>`` for every bad one, and nothing is created."""
    rules = ContactRules(wave, side)
    problems: dict[str, list[str]] = {}
    planned = []
    for index, contact in enumerate(contacts):
        found, fields = rules.problems(contact, f"contacts[{index}]")
        problems.update({f"contacts[{index}].{key}": value for key, value in found.items()})
        if not problems:
            planned.append(fields)
    if problems:
        raise errors.ValidationFailed("Some contacts are not valid; no invitation was created.",
                                      field_errors=problems)
    return [services.invitation_create(wave=wave, side=side, **fields) for fields in planned]
