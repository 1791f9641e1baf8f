"""Invitations through the API and manage.py send_invitations, with emails from Django's outbox."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from surveys import models as m
from surveys import services

LINK = re.compile(r"https://kagami\.example/r/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.KAGAMI_PUBLIC_URL = "https://kagami.example"
    # These tests remind moments after mailing; the cool-down has its own tests (test_invitation_links.py).
    settings.KAGAMI_REMINDER_COOLDOWN_HOURS = 0


def _token_in(message) -> str:
    tokens = LINK.findall(message.body)
    assert len(tokens) == 1, message.body
    return tokens[0]


def test_bulk_create_sends_each_invitation_in_its_language_with_a_working_link(world, owner_client):
    response = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/", {
        "side": "customer", "send": True,
        "contacts": [
            {"email": "buyer@example.com", "name": "Jane", "language": "en", "account": "ACME",
             "segments": {"region": "EMEA"}},
            {"email": "kaito@example.jp", "name": "海斗", "language": "ja"},
            {"name": "No email"},
        ],
    }, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["created"], response.data["sent"]) == (3, 2)
    links = [row["link"] for row in response.data["invitations"]]
    assert all(link.startswith("https://kagami.example/r/") for link in links)

    assert [msg.to for msg in mail.outbox] == [["buyer@example.com"], ["kaito@example.jp"]]
    english, japanese = mail.outbox
    assert english.subject == "Mirror Corp would like to hear from you"
    assert "Dear Jane," in english.body and "Mirror Corp" in english.body
    assert "海斗 様" in japanese.body and "ミラー株式会社" in japanese.subject
    for message, link in zip(mail.outbox, links, strict=False):
        token = _token_in(message)
        assert f"https://kagami.example/r/{token}/" == link
        invitation = services.invitation_by_token(token=token)
        assert invitation.email == message.to[0] and invitation.sent_at is not None
    jane = services.invitation_by_token(token=_token_in(english))
    assert (jane.customer_account.external_id, jane.segments) == ("ACME", {"region": "EMEA"})


def test_staff_invitations_come_back_without_a_link_and_are_emailed_a_working_one(world, owner_client):
    # P1: a staff link goes to its invitee only, by email (tests/security/test_disclosure_invitations.py).
    response = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/", {
        "side": "staff", "send": True,
        "contacts": [{"email": "taro@example.jp", "name": "太郎", "language": "ja", "segments": {"tenure": "1-3y"}},
                     {"email": "ann@example.com", "name": "Ann", "language": "en"}],
    }, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["created"], response.data["sent"]) == (2, 2)
    assert [row["link"] for row in response.data["invitations"]] == [None, None]
    assert "/r/" not in response.content.decode()
    for message in mail.outbox:
        invitation = services.invitation_by_token(token=_token_in(message))
        assert (invitation.side, invitation.email) == ("staff", message.to[0])
    assert sorted(msg.to[0] for msg in mail.outbox) == ["ann@example.com", "taro@example.jp"]

    no_address = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/", {
        "side": "staff", "contacts": [{"email": "ok@example.com"}, {"name": "No email"}]}, format="json")
    assert no_address.status_code == 400
    assert no_address.data["contacts[1].email"] == [services.STAFF_EMAIL_REQUIRED]
    assert not m.Invitation.objects.filter(email="ok@example.com").exists()


def test_bulk_create_is_all_or_nothing_and_names_each_bad_contact(world, owner_client):
    response = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/", {
        "side": "staff",
        "contacts": [
            {"email": "ok@example.com", "segments": {"tenure": "1-3y"}},
            {"email": "hanako@example.com"},
            {"email": "ok@example.com", "account": "ACME"},
            {"email": "x@example.com", "segments": {"tenure": "forever"}},
        ],
    }, format="json")
    assert response.status_code == 400
    assert response.data["contacts[1].email"] == ["'hanako@example.com' is already invited to this wave (staff)."]
    assert response.data["contacts[2].email"] == ["'ok@example.com' also appears in contacts[0]."]
    assert "contacts[2].account" in response.data
    assert "contacts[3].segments.tenure" in response.data
    assert "contacts[0].email" not in response.data
    malformed = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/", {
        "side": "staff", "contacts": [{"email": "fine@example.com"}, {"email": "not-an-email"}]}, format="json")
    assert malformed.status_code == 400 and malformed.data["contacts"][1]["email"]
    assert m.Invitation.objects.filter(wave=world.open).count() == 1
    assert mail.outbox == []


def test_sending_needs_an_open_wave_and_closed_waves_take_no_invitations(world, owner_client):
    body = {"side": "staff", "send": True, "contacts": [{"email": "a@example.com"}]}
    draft = owner_client.post(f"/api/v1/waves/{world.draft.pk}/invitations/", body, format="json")
    assert (draft.status_code, draft.data["code"]) == (409, "wave_not_open")
    body["send"] = False
    assert owner_client.post(f"/api/v1/waves/{world.draft.pk}/invitations/", body, format="json").status_code == 201
    closed = owner_client.post(f"/api/v1/waves/{world.closed.pk}/invitations/", body, format="json")
    assert (closed.status_code, closed.data["code"]) == (409, "wave_closed")


def test_the_list_shows_status_and_never_a_response(world, analyst_client):
    services.invitation_create(wave=world.open, side="customer", email="c@example.com")
    answered = services.invitation_create(wave=world.open, side="customer", email="d@example.com")
    services.response_submit(wave=world.open, side="customer", answers={"fast": 3, "easy": 3, "nps": 7},
                             language="en", invitation=answered.invitation, channel=m.Channel.INVITATION)
    rows = analyst_client.get(f"/api/v1/waves/{world.open.pk}/invitations/").data["results"]
    assert [(r["side"], r["email"], r["status"]) for r in rows] == [
        ("customer", "c@example.com", "pending"), ("customer", "d@example.com", "answered"),
        ("staff", "hanako@example.com", "sent")]
    assert set(rows[0]) == {"id", "side", "email", "name", "language", "segments", "account", "status",
                            "created_at", "sent_at", "last_reminded_at", "reminder_count"}
    assert (rows[0]["reminder_count"], rows[2]["reminder_count"], rows[2]["last_reminded_at"]) == (0, None, None)
    only = analyst_client.get(f"/api/v1/waves/{world.open.pk}/invitations/?status=answered&side=customer")
    assert [r["email"] for r in only.data["results"]] == ["d@example.com"]
    assert analyst_client.get(f"/api/v1/waves/{world.open.pk}/invitations/?status=lost").status_code == 400


def test_resend_issues_a_fresh_link_and_the_old_one_keeps_working(world, owner_client):
    customer = services.invitation_create(wave=world.open, side="customer", email="buyer@example.com",
                                          language="en")
    response = owner_client.post(f"/api/v1/invitations/{customer.invitation.pk}/resend/")
    assert response.status_code == 200, response.data
    assert response.data["sent"] is True and response.data["invitation"]["status"] == "sent"
    (message,) = mail.outbox
    assert message.to == ["buyer@example.com"]
    token = _token_in(message)
    assert response.data["link"] == f"https://kagami.example/r/{token}/"
    assert services.invitation_by_token(token=token).pk == customer.invitation.pk
    assert services.invitation_by_token(token=customer.token).pk == customer.invitation.pk  # issue 13 item 8


def test_resend_of_a_staff_invitation_mails_a_fresh_link_but_returns_none(world, owner_client):
    response = owner_client.post(f"/api/v1/invitations/{world.invitation.pk}/resend/")
    assert response.status_code == 200, response.data
    # P1: no link for staff (a new link for unused invitations only would say which were used).
    assert (response.data["sent"], response.data["link"]) == (True, None)
    assert (response.data["invitation"]["status"], response.data["invitation"]["reminder_count"]) == ("sent", None)
    (message,) = mail.outbox
    assert message.to == ["hanako@example.com"]
    assert "社内アンケート" in message.subject and "匿名" in message.body  # Hanako reads Japanese
    token = _token_in(message)
    assert services.invitation_by_token(token=token).pk == world.invitation.pk
    assert services.invitation_by_token(token=world.token).pk == world.invitation.pk  # the mailed one still works


def test_resend_of_an_answered_customer_invitation_is_a_409(world, owner_client):
    answered = services.invitation_create(wave=world.open, side="customer", email="done@example.com")
    services.response_submit(wave=world.open, side="customer", answers={"fast": 3, "easy": 3, "nps": 7},
                             language="en", invitation=answered.invitation, channel=m.Channel.INVITATION)
    response = owner_client.post(f"/api/v1/invitations/{answered.invitation.pk}/resend/")
    assert (response.status_code, response.data["code"]) == (409, "already_answered")
    assert mail.outbox == []


def test_resend_of_an_answered_staff_invitation_answers_as_for_an_unanswered_one_and_mails_nobody(
        world, owner_client):
    services.response_submit(wave=world.open, side="staff", answers={"fast": 3, "easy": 3}, language="ja",
                             invitation=world.invitation, channel=m.Channel.INVITATION)
    response = owner_client.post(f"/api/v1/invitations/{world.invitation.pk}/resend/")
    assert response.status_code == 200, response.data
    assert (response.data["sent"], response.data["link"], response.data["invitation"]["status"]) == (
        True, None, "sent")
    assert mail.outbox == []


def test_remind_reaches_everyone_sent_and_unanswered_in_an_open_wave(world, owner_client):
    answered = services.invitation_create(wave=world.open, side="customer", email="done@example.com",
                                          language="en")
    m.Invitation.objects.filter(pk=answered.invitation.pk).update(sent_at="2025-04-01T09:00:00+09:00")
    m.InvitationUse.objects.create(invitation=answered.invitation)
    waiting = services.invitation_create(wave=world.open, side="customer", email="wait@example.com", language="en")
    m.Invitation.objects.filter(pk=waiting.invitation.pk).update(sent_at="2025-04-01T09:00:00+09:00")
    services.invitation_create(wave=world.open, side="customer", email="never@example.com")  # never sent
    response = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/remind/", {}, format="json")
    assert response.status_code == 200
    # Customers are counted; staff only said to be reminded, never how many (P1).
    assert response.data == {"sent": 1, "skipped_no_email": 0, "skipped_answered": 0, "failed": [],
                             "staff_queued": True, "skipped": []}
    assert sorted(msg.to[0] for msg in mail.outbox) == ["hanako@example.com", "wait@example.com"]
    assert all(msg.subject.startswith(("【リマインダー】", "Reminder")) for msg in mail.outbox)
    hanako = next(msg for msg in mail.outbox if msg.to == ["hanako@example.com"])
    assert services.invitation_by_token(token=_token_in(hanako)).pk == world.invitation.pk
    world.invitation.refresh_from_db()
    assert (world.invitation.reminder_count, world.invitation.last_reminded_at is not None) == (1, True)

    mail.outbox.clear()
    staff_only = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/remind/", {"side": "staff"},
                                   format="json")
    assert staff_only.data == {"sent": None, "skipped_no_email": None, "skipped_answered": None, "failed": None,
                               "staff_queued": True, "skipped": []}
    assert [msg.to for msg in mail.outbox] == [["hanako@example.com"]]

    draft = owner_client.post(f"/api/v1/waves/{world.draft.pk}/invitations/remind/", {}, format="json")
    assert (draft.status_code, draft.data["code"]) == (409, "wave_not_open")
    bad = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/remind/", {"side": "both"}, format="json")
    assert bad.status_code == 400 and "side" in bad.data


def test_import_creates_invitations_and_reports_rows(world, owner_client):
    upload = io.BytesIO(b"email,name,language,department\nken@example.com,Ken,en,Sales\n")
    upload.name = "staff.csv"
    response = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/import/",
                                 {"side": "staff", "file": upload, "send": "true"}, format="multipart")
    assert response.status_code == 201, response.data
    assert (response.data["created"], response.data["sent"]) == (1, 1)
    assert mail.outbox[0].to == ["ken@example.com"]
    assert services.invitation_by_token(token=_token_in(mail.outbox[0])).segments == {"department": "Sales"}
    assert response.data["invitations"][0]["link"] is None  # staff: emailed only (P1)

    bad = io.BytesIO(b"email,language\nnot-an-email,xx\n")
    bad.name = "bad.csv"
    refused = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/import/",
                                {"side": "staff", "file": bad}, format="multipart")
    assert (refused.status_code, refused.data["code"]) == (400, "import_failed")
    assert {(e["row"], e["column"]) for e in refused.data["errors"]} >= {(2, "email"), (2, "language")}
    missing = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/import/", {"side": "staff"},
                                format="multipart")
    assert missing.status_code == 400 and "file" in missing.data


# --------------------------------------------------------------------------- manage.py send_invitations


def test_send_invitations_sends_never_sent_ones_with_fresh_working_links(world):
    pending = services.invitation_create(wave=world.open, side="customer", email="new@example.com", language="en")
    services.invitation_create(wave=world.open, side="staff", email="staff@example.com", language="ja")
    out = io.StringIO()
    call_command("send_invitations", "--wave", "summer", "--side", "customer", stdout=out, stderr=io.StringIO())
    assert "Sent 1 invitation(s)" in out.getvalue()
    (message,) = mail.outbox
    assert message.to == ["new@example.com"] and "Mirror Corp would like to hear from you" == message.subject
    token = _token_in(message)
    assert services.invitation_by_token(token=token).pk == pending.invitation.pk
    assert services.invitation_by_token(token=pending.token).pk == pending.invitation.pk  # re-issued, still valid

    call_command("send_invitations", "--wave", str(world.open.pk), stdout=io.StringIO(), stderr=io.StringIO())
    assert [msg.to for msg in mail.outbox[1:]] == [["staff@example.com"]]
    assert "社内アンケート" in mail.outbox[1].subject


def test_send_invitations_remind_writes_to_the_unanswered_only(world):
    answered = services.invitation_create(wave=world.open, side="staff", email="done@example.com")
    m.Invitation.objects.filter(pk=answered.invitation.pk).update(sent_at="2025-04-01T09:00:00+09:00")
    m.InvitationUse.objects.create(invitation=answered.invitation)
    out = io.StringIO()
    call_command("send_invitations", "--wave", "summer", "--remind", stdout=out, stderr=io.StringIO())
    (message,) = mail.outbox
    assert message.to == ["hanako@example.com"]
    # P1: only how many sent staff invitations were gone through (2, answered or not), never how many were mailed.
    assert "2 sent staff invitation(s)" in out.getvalue() and "Sent" not in out.getvalue()
    assert "以前お送りしたリンクも引き続きお使いいただけます" in message.body
    assert services.invitation_by_token(token=_token_in(message)).pk == world.invitation.pk
    world.invitation.refresh_from_db()
    assert world.invitation.reminder_count == 1


def test_send_invitations_refuses_unknown_and_unopened_waves(world):
    with pytest.raises(CommandError, match="No wave"):
        call_command("send_invitations", "--wave", "nowhere")
    with pytest.raises(CommandError, match="draft"):
        call_command("send_invitations", "--wave", "spring")
    assert mail.outbox == []
