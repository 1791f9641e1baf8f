"""Issue 13 item 8: a reminder cool-down, links that survive reminders and resends, and a replaced link
that says so.

(a) two reminders seconds apart mail nobody twice: invitations inside KAGAMI_REMINDER_COOLDOWN_HOURS are
    skipped and reported with the reason; (b) remind and resend keep every earlier link of an invitation
    working, and any of its links can be used once in total; (c) after an admin's explicit reissue the
    earlier links are dead but recognised: their page says a newer e-mail replaced them (ja/en).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from surveys import errors, services
from surveys import models as m

LINK = re.compile(r"https://kagami\.example/r/([A-Za-z0-9_-]+)/")
ANSWERS = {"a_fast": "3", "a_easy": "3", "a_nps": "8", "language": "en"}


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.KAGAMI_PUBLIC_URL = "https://kagami.example"
    settings.KAGAMI_REMINDER_COOLDOWN_HOURS = 24


def _token(message) -> str:
    (token,) = LINK.findall(message.body)
    return token


def _customer(world, email: str, *, sent_hours_ago: float | None = 48) -> services.IssuedInvitation:
    issued = services.invitation_create(wave=world.open, side="customer", email=email, language="en")
    if sent_hours_ago is not None:
        when = timezone.now() - timedelta(hours=sent_hours_ago)
        m.Invitation.objects.filter(pk=issued.invitation.pk).update(sent_at=when, last_sent_at=when)
    return issued


def _remind(client, world, body=None):
    response = client.post(f"/api/v1/waves/{world.open.pk}/invitations/remind/", body or {}, format="json")
    assert response.status_code == 200, response.data
    return response.data


# --------------------------------------------------------------------------- (a) the cool-down


def test_two_reminders_seconds_apart_mail_each_invitee_once_and_report_the_skipped(world, owner_client):
    waiting = _customer(world, "wait@example.com")
    m.Invitation.objects.filter(pk=world.invitation.pk).update(last_sent_at=world.invitation.sent_at)
    first = _remind(owner_client, world)
    assert (first["sent"], first["skipped"]) == (1, [])
    assert sorted(msg.to[0] for msg in mail.outbox) == ["hanako@example.com", "wait@example.com"]

    mail.outbox.clear()
    second = _remind(owner_client, world)
    assert mail.outbox == []
    assert second["sent"] == 0
    skipped = {row["invitation"]: row for row in second["skipped"]}
    assert set(skipped) == {waiting.invitation.pk, world.invitation.pk}
    assert {row["reason"] for row in skipped.values()} == {"cooldown"}
    assert all(row["next_reminder_at"] for row in skipped.values())


def test_the_cool_down_counts_from_the_first_mailing_and_ends(world, owner_client, settings):
    _customer(world, "fresh@example.com", sent_hours_ago=1)
    _customer(world, "old@example.com", sent_hours_ago=30)
    m.Invitation.objects.filter(pk=world.invitation.pk).update(last_sent_at=timezone.now() - timedelta(hours=30))
    body = _remind(owner_client, world, {"side": "customer"})
    assert [msg.to[0] for msg in mail.outbox] == ["old@example.com"]
    assert [(row["reason"]) for row in body["skipped"]] == ["cooldown"]
    settings.KAGAMI_REMINDER_COOLDOWN_HOURS = 0  # switched off: everyone unanswered is reminded
    mail.outbox.clear()
    _remind(owner_client, world, {"side": "customer"})
    assert sorted(msg.to[0] for msg in mail.outbox) == ["fresh@example.com", "old@example.com"]


# --------------------------------------------------------------------------- (b) earlier links keep working


def test_a_reminder_keeps_the_earlier_link_working_and_any_link_answers_once(world, owner_client):
    issued = _customer(world, "buyer@example.com")
    before = m.SurveyResponse.objects.count()
    _remind(owner_client, world, {"side": "customer"})
    (reminder,) = mail.outbox
    assert "still works" in reminder.body
    new = _token(reminder)
    assert services.invitation_by_token(token=issued.token).pk == issued.invitation.pk
    assert services.invitation_by_token(token=new).pk == issued.invitation.pk

    browser = Client()
    assert browser.get(f"/r/{issued.token}/").status_code == 200
    assert browser.post(f"/r/{issued.token}/", ANSWERS).status_code == 302
    assert browser.get(f"/r/{new}/").status_code == 409  # the same invitation: used once in total
    assert browser.post(f"/r/{new}/", ANSWERS).status_code == 409
    assert m.SurveyResponse.objects.count() == before + 1


def test_a_resend_keeps_the_links_returned_earlier_working(world, owner_client):
    issued = _customer(world, "buyer@example.com", sent_hours_ago=None)
    first = owner_client.post(f"/api/v1/invitations/{issued.invitation.pk}/resend/").data["link"]
    second = owner_client.post(f"/api/v1/invitations/{issued.invitation.pk}/resend/").data["link"]
    assert len({issued.token, first, second}) == 3
    for token in (issued.token, LINK.match(first).group(1), LINK.match(second).group(1)):
        assert services.invitation_by_token(token=token).pk == issued.invitation.pk
    # A staff resend mails a new link, and the one mailed before still works too (never in the answer: P1).
    before = world.token
    assert owner_client.post(f"/api/v1/invitations/{world.invitation.pk}/resend/").data["link"] is None
    assert services.invitation_by_token(token=before).pk == world.invitation.pk
    assert services.invitation_by_token(token=_token(mail.outbox[-1])).pk == world.invitation.pk


def test_earlier_links_answer_the_api_too_and_once(world, owner_client, anon_client):
    issued = _customer(world, "buyer@example.com", sent_hours_ago=None)
    owner_client.post(f"/api/v1/invitations/{issued.invitation.pk}/resend/")
    new = _token(mail.outbox[-1])
    answers = {"answers": {"fast": 3, "easy": 3, "nps": 8}}
    assert anon_client.get(f"/api/v1/public/forms/{issued.token}/").status_code == 200
    assert anon_client.post(f"/api/v1/public/forms/{new}/", answers, format="json").status_code == 201
    refused = anon_client.post(f"/api/v1/public/forms/{issued.token}/", answers, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "already_answered")


# --------------------------------------------------------------------------- (c) a revoked link says so


def test_a_reissued_invitations_earlier_links_are_dead_and_say_a_newer_email_replaced_them(world, owner_client):
    issued = _customer(world, "buyer@example.com", sent_hours_ago=None)
    before = m.SurveyResponse.objects.count()
    owner_client.post(f"/api/v1/invitations/{issued.invitation.pk}/resend/")
    resent = _token(mail.outbox[-1])
    response = owner_client.post(f"/api/v1/invitations/{issued.invitation.pk}/reissue/")
    assert response.status_code == 200, response.data
    fresh = _token(mail.outbox[-1])
    assert response.data["link"] == f"https://kagami.example/r/{fresh}/" and response.data["sent"] is True
    assert services.invitation_by_token(token=fresh).pk == issued.invitation.pk

    for token in (issued.token, resent):
        with pytest.raises(errors.LinkReplaced):
            services.invitation_by_token(token=token)
        page = Client().get(f"/r/{token}/")
        assert page.status_code == 410
        assert "A newer e-mail replaced this link" in page.content.decode()
        assert "most recent invitation e-mail" in page.content.decode()
        assert "check the address" not in page.content.decode().lower()
        assert Client().post(f"/r/{token}/", ANSWERS).status_code == 410
        api = Client().get(f"/api/v1/public/forms/{token}/")
        assert (api.status_code, api.json()["code"]) == (410, "link_replaced")
    japanese = Client().get(f"/r/{issued.token}/?lang=ja")
    assert "新しいメール" in japanese.content.decode()
    assert m.SurveyResponse.objects.count() == before
    assert Client().post(f"/r/{fresh}/", ANSWERS).status_code == 302


def test_a_staff_reissue_answers_the_same_used_or_not_and_never_returns_a_link(world, owner_client):
    response = owner_client.post(f"/api/v1/invitations/{world.invitation.pk}/reissue/")
    assert response.status_code == 200, response.data
    assert (response.data["sent"], response.data["link"]) == (True, None)
    assert "/r/" not in response.content.decode()
    (message,) = mail.outbox
    assert services.invitation_by_token(token=_token(message)).pk == world.invitation.pk
    with pytest.raises(errors.LinkReplaced):
        services.invitation_by_token(token=world.token)
