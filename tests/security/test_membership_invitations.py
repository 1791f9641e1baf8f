"""Issue 13, item 1: people join an organization only by accepting an e-mailed invitation.

An admin of one organization (``outsider``, admin of ``other_org``) used to add any user of the
system by username, and learnt from the answer whether the username existed and that user's e-mail
and name. Now ``POST /api/v1/memberships/`` takes an e-mail address and answers the same whoever
(if anyone) has that address; nobody joins until they accept at /accounts/join/<token>/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from surveys import member_invitations as mi
from surveys import models as m
from tests import factories as f

PASSWORD = "a-Long-unusual-passphrase-42"
VOLATILE = ("id", "email", "created_at", "expires_at", "sent_at")


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _invite(client: APIClient, org: m.Organization, email: str, role: str = "analyst", **extra):
    return client.post("/api/v1/memberships/", {"organization": org.pk, "email": email, "role": role, **extra},
                       format="json")


def _token_from_last_mail() -> str:
    match = re.search(r"/accounts/join/([A-Za-z0-9_-]+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _stable(response) -> bytes:
    """The body with the fields that differ per invitation anyway (ids, the address itself, times) blanked."""
    body = response.json()
    return repr(sorted((key, "…" if key in VOLATILE else value) for key, value in body.items())).encode()


# --------------------------------------------------------------------------- the finding


def test_an_admin_probing_usernames_of_another_organization_learns_nothing_and_adds_nobody(org, owner, outsider,
                                                                                             other_org):
    api = _api(outsider)
    known = api.post("/api/v1/memberships/", {"organization": other_org.pk, "username": owner.username,
                                              "role": "analyst"}, format="json")
    unknown = api.post("/api/v1/memberships/", {"organization": other_org.pk, "username": "nobody-at-all",
                                                "role": "analyst"}, format="json")
    assert known.status_code == unknown.status_code == 400, known.content
    assert known.content == unknown.content
    assert "username" in known.json() and "email" in known.json()["username"][0]
    assert owner.email.encode() not in known.content
    assert not m.Membership.objects.filter(user=owner, organization=other_org).exists()


def test_an_admin_probing_e_mail_addresses_learns_nothing_and_nobody_joins_until_they_accept(org, owner, outsider,
                                                                                               other_org):
    api = _api(outsider)
    lone = f.UserFactory(username="lone", email="lone@example.net")  # a user in no organization at all
    responses = [_invite(api, other_org, email) for email in (owner.email, lone.email, "nobody@example.org")]
    assert [r.status_code for r in responses] == [202, 202, 202], responses[0].content
    assert len({_stable(r) for r in responses}) == 1
    assert set(responses[0].json()) == {"id", "organization", "email", "role", "language", "status", "created_at",
                                        "expires_at", "sent_at", "accepted_at", "revoked_at"}
    assert responses[0].json()["status"] == "pending"
    for response in responses:
        assert "user" not in response.json() and b"first_name" not in response.content
    assert not m.Membership.objects.filter(organization=other_org).exclude(user=outsider).exists()
    # Each address got its mail, whoever (if anyone) has it.
    assert [message.to for message in mail.outbox] == [[owner.email], [lone.email], ["nobody@example.org"]]


def test_the_old_username_body_is_refused_naming_the_field(org, owner):
    response = _api(owner).post("/api/v1/memberships/", {"organization": org.pk, "username": "someone",
                                                         "role": "analyst"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "username" in body
    assert "no longer accepted" in body["username"][0].lower() and "email" in body["username"][0]


def test_only_the_hash_of_the_token_is_stored_and_the_mail_carries_the_link(org, owner):
    response = _invite(_api(owner), org, "Newcomer@Example.COM", language="en")
    assert response.status_code == 202
    token = _token_from_last_mail()
    invitation = m.MembershipInvitation.objects.get(pk=response.json()["id"])
    assert invitation.token_hash == m.hash_token(token) and token not in repr(invitation.__dict__)
    assert invitation.email == "Newcomer@example.com" and invitation.invited_by == owner
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    message = mail.outbox[-1]
    assert message.to == ["Newcomer@example.com"] and "Mirror Corp" in message.subject
    assert f"/accounts/join/{token}/" in message.body and "Analyst" in message.body


def test_the_japanese_invitation_mail(org, owner):
    _invite(_api(owner), org, "taro@example.jp", language="ja")
    message = mail.outbox[-1]
    assert "ミラー株式会社" in message.subject and "招待" in message.body


def test_an_address_of_a_current_member_is_refused_with_a_field_error(org, owner, analyst):
    response = _invite(_api(owner), org, analyst.email.upper())
    assert response.status_code == 400 and "email" in response.json()
    assert mail.outbox == []


# --------------------------------------------------------------------------- accepting


def test_an_existing_user_logs_in_first_then_accepts_once_with_the_invited_role(org, owner, outsider, other_org):
    assert _invite(_api(outsider), other_org, owner.email, role="analyst").status_code == 202
    token = _token_from_last_mail()
    url = f"/accounts/join/{token}/"
    visitor = Client()
    page = visitor.get(url)
    assert page.status_code == 200
    assert f'/accounts/login/?next={url}' in page.content.decode()  # an account has this address: log in first
    assert b'name="password1"' not in page.content
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    page = browser.get(url)
    assert page.status_code == 200 and b"Other Inc" in page.content and b"Analyst" in page.content
    csrf = page.cookies["csrftoken"].value
    assert browser.post(url, {}).status_code == 403  # CSRF on
    # The invited role is the only role: a posted one is ignored.
    done = browser.post(url, {"csrfmiddlewaretoken": csrf, "role": "admin"})
    assert done.status_code == 200, done.content
    membership = m.Membership.objects.get(user=owner, organization=other_org)
    assert membership.role == "analyst"
    again = browser.post(url, {"csrfmiddlewaretoken": csrf})
    assert again.status_code == 410 and m.Membership.objects.filter(user=owner, organization=other_org).count() == 1
    invitation = m.MembershipInvitation.objects.get(token_hash=m.hash_token(token))
    assert invitation.status == "accepted" and invitation.accepted_by == owner
    listed = _api(outsider).get("/api/v1/membership-invitations/").json()["results"]
    assert [row["status"] for row in listed] == ["accepted"]
    actions = list(m.AuditEvent.objects.filter(organization=other_org).order_by("id").values_list("action", "username"))
    assert actions == [("member_invite", "outsider"), ("member_join", "owner")]


def test_a_new_person_creates_an_account_with_the_invited_address_and_becomes_a_member(org, owner):
    _invite(_api(owner), org, "newcomer@example.com", role="executive")
    url = f"/accounts/join/{_token_from_last_mail()}/"
    browser = Client()
    page = browser.get(url)
    assert page.status_code == 200 and b'name="password1"' in page.content
    assert b"newcomer@example.com" in page.content
    weak = browser.post(url, {"username": "newcomer", "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200 and b"password" in weak.content.lower()
    assert not get_user_model().objects.filter(username="newcomer").exists()
    taken = browser.post(url, {"username": "owner", "password1": PASSWORD, "password2": PASSWORD})
    assert taken.status_code == 200 and not m.Membership.objects.filter(role="executive").exists()
    done = browser.post(url, {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD,
                              "email": "other@example.com", "role": "admin"})
    assert done.status_code == 200, done.content
    user = get_user_model().objects.get(username="newcomer")
    assert user.email == "newcomer@example.com" and user.check_password(PASSWORD)
    assert list(user.memberships.values_list("organization_id", "role")) == [(org.pk, "executive")]
    assert browser.get("/reports/").status_code == 200  # logged in
    assert browser.post(url, {"username": "second", "password1": PASSWORD, "password2": PASSWORD}).status_code == 410
    assert not get_user_model().objects.filter(username="second").exists()


def test_a_member_already_is_told_so(org, owner, analyst):
    _invite(_api(owner), org, "analyst-work@example.com")
    browser = Client()
    browser.force_login(analyst)
    url = f"/accounts/join/{_token_from_last_mail()}/"
    page = browser.post(url)
    assert page.status_code == 409 and b"already a member" in page.content
    assert m.Membership.objects.get(user=analyst, organization=org).role == "analyst"


@pytest.mark.parametrize("state", ["expired", "revoked", "used", "unknown"])
def test_expired_revoked_used_and_unknown_links_show_a_clear_page_and_add_nobody(state, org, owner, other_org,
                                                                                 outsider):
    response = _invite(_api(owner), org, "someone@example.com")
    token = _token_from_last_mail()
    invitation = m.MembershipInvitation.objects.get(pk=response.json()["id"])
    if state == "expired":
        m.MembershipInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        assert _api(owner).delete(f"/api/v1/membership-invitations/{invitation.pk}/").status_code == 204
    elif state == "used":
        mi.accept(invitation=invitation, user=f.UserFactory(email="someone@example.com"))
    else:
        token = token[:-2] + "xx"
    browser = Client()
    browser.force_login(outsider)
    texts = {"expired": b"has expired", "revoked": b"was withdrawn", "used": b"already been used",
             "unknown": b"not valid"}
    for method in ("get", "post"):
        page = getattr(browser, method)(f"/accounts/join/{token}/")
        assert page.status_code == (404 if state == "unknown" else 410)
        assert texts[state] in page.content, page.content
    assert not m.Membership.objects.filter(user=outsider, organization=org).exists()


def test_accepting_is_exactly_once_even_from_a_stale_copy(org, owner, outsider, executive):
    _invite(_api(owner), org, "shared@example.com")
    invitation = m.MembershipInvitation.objects.get()
    stale = m.MembershipInvitation.objects.get()
    mi.accept(invitation=invitation, user=outsider)
    with pytest.raises(mi.InvitationUsed):
        mi.accept(invitation=stale, user=f.UserFactory())
    assert m.Membership.objects.filter(organization=org, role="analyst").exclude(user__username="analyst").count() == 1


# --------------------------------------------------------------------------- managing invitations


def test_invitations_are_listed_revoked_and_resent_by_admins_of_their_organization_only(org, owner, analyst, outsider,
                                                                                         other_org):
    _invite(_api(owner), org, "ours@example.com")
    old_token = _token_from_last_mail()
    _invite(_api(outsider), other_org, "theirs@example.com")
    ours = m.MembershipInvitation.objects.get(organization=org)
    theirs = m.MembershipInvitation.objects.get(organization=other_org)
    admin = _api(owner)
    listed = admin.get("/api/v1/membership-invitations/").json()["results"]
    assert [row["email"] for row in listed] == ["ours@example.com"]
    assert admin.get(f"/api/v1/membership-invitations/?organization={other_org.pk}").json()["count"] == 0
    assert admin.get(f"/api/v1/membership-invitations/?organization={org.pk}&status=pending").json()["count"] == 1
    # Another organization's invitation: 404 for every operation, whatever the role there.
    assert admin.delete(f"/api/v1/membership-invitations/{theirs.pk}/").status_code == 404
    assert admin.post(f"/api/v1/membership-invitations/{theirs.pk}/resend/").status_code == 404
    assert _api(outsider).delete(f"/api/v1/membership-invitations/{ours.pk}/").status_code == 404
    # An analyst of the organization may not manage them.
    assert _api(analyst).get("/api/v1/membership-invitations/").status_code == 403
    assert _api(analyst).delete(f"/api/v1/membership-invitations/{ours.pk}/").status_code == 403
    # Resending mails a fresh link; the previous one stops working.
    resent = admin.post(f"/api/v1/membership-invitations/{ours.pk}/resend/")
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    new_token = _token_from_last_mail()
    assert new_token != old_token
    assert Client().get(f"/accounts/join/{old_token}/").status_code == 404
    assert Client().get(f"/accounts/join/{new_token}/").status_code == 200
    assert admin.delete(f"/api/v1/membership-invitations/{ours.pk}/").status_code == 204
    assert admin.delete(f"/api/v1/membership-invitations/{ours.pk}/").status_code == 204  # idempotent
    assert admin.post(f"/api/v1/membership-invitations/{ours.pk}/resend/").status_code == 409
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    actions = list(m.AuditEvent.objects.filter(organization=org).order_by("id").values_list("action", flat=True))
    assert actions == ["member_invite", "member_invite_resend", "member_invite_revoke"]


def test_a_new_invitation_to_the_same_address_replaces_the_pending_one(org, owner):
    _invite(_api(owner), org, "twice@example.com")
    first = _token_from_last_mail()
    _invite(_api(owner), org, "TWICE@example.com", role="executive")
    assert Client().get(f"/accounts/join/{first}/").status_code == 410
    statuses = sorted((i.role, i.status) for i in m.MembershipInvitation.objects.all())
    assert statuses == [("analyst", "revoked"), ("executive", "pending")]


def test_the_join_page_speaks_japanese_to_a_japanese_browser(org, owner):
    _invite(_api(owner), org, "hanako@example.jp", role="analyst")
    page = Client(HTTP_ACCEPT_LANGUAGE="ja").get(f"/accounts/join/{_token_from_last_mail()}/")
    text = page.content.decode()
    assert page.status_code == 200 and 'lang="ja"' in text
    assert "Mirror Corp に アナリスト として招待されています" in text and "アカウントを作成して参加する" in text


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_people_accepting_one_invitation_at_once_make_exactly_one_member(org, owner):
    import threading

    from django.db import connection

    _invite(_api(owner), org, "everyone@example.com")
    url = f"/accounts/join/{_token_from_last_mail()}/"
    people = [f.UserFactory() for _ in range(10)]
    barrier = threading.Barrier(len(people))
    statuses: list[int] = []
    lock = threading.Lock()

    def accept(user) -> None:
        try:
            browser = Client()
            browser.force_login(user)
            barrier.wait(timeout=10)
            status = browser.post(url).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [410] * (len(people) - 1)
    assert m.Membership.objects.filter(organization=org, user__in=people).count() == 1
    assert m.AuditEvent.objects.filter(organization=org, action="member_join").count() == 1
