"""Disclosure promise P1, "no linkage", for staff invitations: no output, for any role, tells whether a
named colleague answered.

The attack: an admin, analyst or executive reads everything the invitation outputs give (the list with
every filter and ordering parameter, remind, resend, the Django admin, ``send_invitations``), once in a
world where Alice answered, once where Bob did, once where nobody and once where both did. Everything else
is equal — the same invitations (ids, names, emails), the same clock — so any difference between the
worlds is a per-person "has answered" oracle. Reminders must still reach only the staff who have not
answered (Django's mail outbox, which no role reads).

Customers are not promised this: their invitations keep showing "answered" and reminder counts.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.services import invitations as invitation_services
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_reminder_cooldown(settings):
    """These scripts remind within hours of mailing; the cool-down's own P1 check sets it back on."""
    settings.KAGAMI_REMINDER_COOLDOWN_HOURS = 0

STAFF = ("alice", "bob")
# Every set of staff who may have answered: the outputs must be the same in all of these worlds.
WORLDS = [frozenset(c) for n in range(len(STAFF) + 1) for c in combinations(STAFF, n)]
ROLES = ("admin", "analyst", "executive")
LINK = re.compile(r"/r/[A-Za-z0-9_-]+/")


# --------------------------------------------------------------------------- the shared base and its worlds


@dataclass
class Base:
    wave: m.Wave
    staff: dict[str, int]  # persona → invitation id
    customer: int  # an unanswered customer invitation, the same in every world
    clients: dict[str, APIClient]
    site: Client  # the Django admin, as a superuser


def _instrument(org: m.Organization) -> m.Instrument:
    inst = f.InstrumentFactory(organization=org, key="p1-check")
    dim = f.DimensionFactory(instrument=inst, key="speed")
    f.ItemPairFactory(dimension=dim, instrument=inst, key="fast", allow_na=True)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="easy", allow_na=True)
    return inst


@pytest.fixture
def base(org, owner, analyst, executive) -> Base:
    """An open wave with two staff invitations alike in all but name and email, and one customer's; none sent."""
    wave = services.wave_open(wave=services.wave_create(organization=org, instrument=_instrument(org),
                                                        name="P1 Wave", slug="p1-wave"))
    staff = {
        persona: services.invitation_create(wave=wave, side=m.Side.STAFF, email=f"{persona}@mirror.example",
                                            name=persona.title(), language="en",
                                            segments={}).invitation.pk
        for persona in STAFF
    }
    customer = services.invitation_create(wave=wave, side=m.Side.CUSTOMER, email="carol@client.example",
                                          name="Carol", language="en").invitation.pk
    clients = {}
    for role, user in (("admin", owner), ("analyst", analyst), ("executive", executive)):
        clients[role] = APIClient()
        clients[role].force_authenticate(user=user)
    site = Client()
    site.force_login(f.UserFactory(username="root", is_staff=True, is_superuser=True))
    return Base(wave=wave, staff=staff, customer=customer, clients=clients, site=site)


@dataclass
class World:
    """One world: who answered, a clock that moves only when told, and what was seen."""

    base: Base
    answered: frozenset[str]
    now: Any
    seen: dict[str, str] = field(default_factory=dict)

    def tick(self) -> None:
        self.now += timedelta(hours=1)

    def invitation(self, persona: str) -> m.Invitation:
        return m.Invitation.objects.get(pk=self.base.staff[persona])

    def answer(self) -> None:
        """The world's personas answer through their invitation (in a fixed order, so ids match)."""
        self.tick()
        for persona in STAFF:
            if persona in self.answered:
                services.response_submit(wave=self.base.wave, side=m.Side.STAFF, answers={"fast": 4, "easy": 2},
                                          language="en", invitation=self.invitation(persona),
                                          channel=m.Channel.INVITATION)
        self.tick()

    def unanswered_emails(self) -> list[str]:
        return [f"{persona}@mirror.example" for persona in STAFF if persona not in self.answered]

    def record(self, key: str, response) -> None:
        body = response.content.decode()
        self.seen[key] = f"{response.status_code} {response.get('Location', '')} {_normal(body)}"

    def record_text(self, key: str, text: str) -> None:
        self.seen[key] = _normal(text)

    def command(self, *args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("send_invitations", "--wave", self.base.wave.slug, *args, stdout=out, stderr=err)
        except Exception as exc:  # noqa: BLE001 — an error is an output like any other
            err.write(f"{type(exc).__name__}: {exc}")
        return f"stdout: {out.getvalue()}\nstderr: {err.getvalue()}"


def _normal(text: str) -> str:
    """What differs between two identical requests anyway: fresh links, CSRF tokens and CSP nonces."""
    text = LINK.sub("/r/<token>/", text)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="<csrf>"', text)
    text = re.sub(r'nonce="[^"]+"', 'nonce="<nonce>"', text)
    return text


def in_every_world(base: Base, monkeypatch, script: Callable[[World], None]) -> dict[frozenset, dict[str, str]]:
    """Run the script once per world (rolled back after each) on the same base and the same clock."""
    start = timezone.now().replace(microsecond=0)
    seen: dict[frozenset, dict[str, str]] = {}
    for answered in WORLDS:
        world = World(base=base, answered=answered, now=start)
        with monkeypatch.context() as patch, transaction.atomic():
            patch.setattr(timezone, "now", lambda world=world: world.now)
            cache.clear()
            mail.outbox.clear()
            script(world)
            transaction.set_rollback(True)
        seen[answered] = world.seen
    return seen


def assert_no_oracle(seen: dict[frozenset, dict[str, str]]) -> None:
    reference = seen[frozenset()]
    assert reference, "the script recorded nothing"
    keys: dict[str, list[str]] = {}  # output → the worlds where it differs from "nobody answered"
    details = []
    for answered, outputs in seen.items():
        assert outputs.keys() == reference.keys()
        who = "+".join(sorted(answered))
        for key, value in outputs.items():
            if value != reference[key]:
                keys.setdefault(key, []).append(who)
                if len(details) < 3:
                    start = max(0, len(os.path.commonprefix([reference[key], value])) - 250)
                    details.append(f"{key}\n   nobody answered: …{reference[key][start:start + 600]}"
                                   f"\n   {who} answered: …{value[start:start + 600]}")
    assert not keys, (f"{len(keys)} output(s) differ with who answered:\n"
                      + "\n".join(f"  {key}  ({', '.join(worlds)})" for key, worlds in list(keys.items())[:60])
                      + "\nfirst differences:\n" + "\n".join(details))


def _send_first_round(world: World) -> None:
    """The first mailing of the staff invitations (send_invitations), seen by whoever runs it."""
    world.tick()
    world.record_text("send_invitations --side staff (first round)", world.command("--side", "staff"))
    world.tick()


# --------------------------------------------------------------------------- the API list


LIST_PARAMS: list[dict[str, str]] = [
    {}, {"side": "staff"}, {"side": "customer"},
    *({"status": status} for status in ("pending", "sent", "answered")),
    *({"side": "staff", "status": status} for status in ("pending", "sent", "answered")),
    # Parameters that do not exist must be ignored alike: no ordering or filtering by use or reminders.
    *({"ordering": o} for o in ("reminder_count", "-reminder_count", "last_reminded_at", "-last_reminded_at",
                                "use", "-use", "status", "-status")),
    {"o": "reminder_count"}, {"sort": "-last_reminded_at"},
    {"used": "true"}, {"used": "false"}, {"is_used": "true"}, {"answered": "true"}, {"use": "1"},
    {"use__isnull": "true"}, {"use__isnull": "false"}, {"reminder_count": "0"}, {"reminder_count": "1"},
    {"reminder_count__gt": "0"}, {"last_reminded_at__isnull": "true"}, {"last_reminded_at__isnull": "false"},
    {"limit": "1"}, {"limit": "1", "offset": "1"}, {"limit": "1", "offset": "2"},
]


def _record_lists(world: World, stage: str) -> None:
    wave = world.base.wave
    for role in ROLES:
        client = world.base.clients[role]
        for params in LIST_PARAMS:
            world.record(f"{stage} {role} GET invitations {params}",
                         client.get(f"/api/v1/waves/{wave.pk}/invitations/", params))
        for persona, pk in world.base.staff.items():
            world.record(f"{stage} {role} GET invitation {persona}", client.get(f"/api/v1/invitations/{pk}/"))


def test_the_invitation_list_is_the_same_whoever_answered_for_every_role_and_parameter(base, monkeypatch):
    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        _record_lists(world, "after answering:")
        world.tick()
        assert world.base.clients["admin"].post(f"/api/v1/waves/{world.base.wave.pk}/invitations/remind/",
                                                {"side": "staff"}, format="json").status_code == 200
        world.tick()
        _record_lists(world, "after a reminder (API):")
        world.command("--remind")
        world.tick()
        _record_lists(world, "after a second reminder (send_invitations):")

    assert_no_oracle(in_every_world(base, monkeypatch, script))


def test_a_staff_invitation_answered_before_its_first_mailing_still_looks_sent(base, monkeypatch):
    """A link handed out at creation can be used before send_invitations ever mails it: the first round
    must then not leave the answered one "pending" (nor say how many it mailed)."""

    def script(world: World) -> None:
        world.answer()
        _record_lists(world, "answered, never mailed:")
        _send_first_round(world)
        assert sorted(to for msg in mail.outbox for to in msg.to) == world.unanswered_emails()
        _record_lists(world, "after the first mailing:")

    assert_no_oracle(in_every_world(base, monkeypatch, script))


# --------------------------------------------------------------------------- remind


def test_remind_answers_the_same_whoever_answered_and_mails_only_those_who_did_not(base, monkeypatch):
    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        wave = world.base.wave
        for body in ({"side": "staff"}, {}):
            for role in ("executive", "analyst", "admin"):  # the admin last: the others may not send
                mail.outbox.clear()
                response = world.base.clients[role].post(f"/api/v1/waves/{wave.pk}/invitations/remind/", body,
                                                         format="json")
                world.record(f"{role} POST remind {body}", response)
                staff_mailed = sorted(to for msg in mail.outbox for to in msg.to if to.endswith("@mirror.example"))
                assert staff_mailed == (world.unanswered_emails() if role == "admin" else [])
                assert all("Reminder" in msg.subject for msg in mail.outbox)
                world.tick()

    assert_no_oracle(in_every_world(base, monkeypatch, script))


def test_the_remind_command_says_the_same_whoever_answered_and_mails_only_those_who_did_not(base, monkeypatch):
    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        for args in (("--remind", "--side", "staff"), ("--remind",)):
            mail.outbox.clear()
            world.record_text(f"send_invitations {' '.join(args)}", world.command(*args))
            staff_mailed = sorted(to for msg in mail.outbox for to in msg.to if to.endswith("@mirror.example"))
            assert staff_mailed == world.unanswered_emails()
            world.tick()

    assert_no_oracle(in_every_world(base, monkeypatch, script))


def test_the_reminder_cool_down_skips_the_same_staff_whoever_answered(base, monkeypatch, settings):
    """With the cool-down on (issue 13 item 8): who is skipped, and until when, must not depend on who answered;
    a reissue answers the same too."""
    settings.KAGAMI_REMINDER_COOLDOWN_HOURS = 24

    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        wave = world.base.wave
        for round_ in ("within a day of the first mailing", "a day later", "an hour after that"):
            if round_ == "a day later":
                world.now += timedelta(hours=24)
            mail.outbox.clear()
            response = world.base.clients["admin"].post(f"/api/v1/waves/{wave.pk}/invitations/remind/", {},
                                                        format="json")
            world.record(f"remind {round_}", response)
            staff_mailed = sorted(to for msg in mail.outbox for to in msg.to if to.endswith("@mirror.example"))
            assert staff_mailed == (world.unanswered_emails() if round_ == "a day later" else [])
            world.tick()
        _record_lists(world, "after cooled-down reminders:")
        for persona, pk in world.base.staff.items():
            world.record(f"reissue {persona}", world.base.clients["admin"].post(f"/api/v1/invitations/{pk}/reissue/"))
            world.tick()

    assert_no_oracle(in_every_world(base, monkeypatch, script))


# --------------------------------------------------------------------------- resend


def test_resend_answers_the_same_for_a_used_and_an_unused_staff_invitation(base, monkeypatch):
    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        for role in ("executive", "analyst", "admin"):
            for persona, pk in world.base.staff.items():
                mail.outbox.clear()
                world.record(f"{role} POST resend {persona}",
                             world.base.clients[role].post(f"/api/v1/invitations/{pk}/resend/"))
                mailed = [to for msg in mail.outbox for to in msg.to]
                answered_or_not_admin = persona in world.answered or role != "admin"
                assert mailed == ([] if answered_or_not_admin else [f"{persona}@mirror.example"])
                world.tick()
        _record_lists(world, "after resending:")

    assert_no_oracle(in_every_world(base, monkeypatch, script))


# --------------------------------------------------------------------------- the Django admin


def _admin(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:surveys_{model._meta.model_name}_{view}", args=args)


ADMIN_CHANGELIST_PARAMS: list[dict[str, str]] = [
    {}, {"side__exact": "staff"}, {"q": "mirror.example"},
    {"use__isempty": "1"}, {"use__isempty": "0"}, {"used": "1"}, {"used": "0"},
    {"use__isnull": "True"}, {"use__isnull": "False"}, {"use__used_on__isnull": "False"},
    {"reminder_count": "0"}, {"reminder_count": "1"}, {"reminder_count__gte": "1"},
    {"last_reminded_at__isnull": "True"}, {"last_reminded_at__isnull": "False"},
    *({"o": f"{sign}{n}"} for n in range(1, 13) for sign in ("", "-")),
]


def test_the_django_admin_shows_the_same_whoever_answered(base, monkeypatch):
    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        world.command("--remind")
        world.tick()
        site = world.base.site
        for params in ADMIN_CHANGELIST_PARAMS:
            world.record(f"admin invitation changelist {params}", site.get(_admin(m.Invitation, "changelist"), params))
        world.record("admin invitation-use changelist", site.get(_admin(m.InvitationUse, "changelist")))
        world.record("admin invitation-use changelist, staff",
                     site.get(_admin(m.InvitationUse, "changelist"), {"invitation__side__exact": "staff"}))
        for persona, pk in world.base.staff.items():
            for view in ("change", "delete", "history"):
                world.record(f"admin invitation {view} {persona}", site.get(_admin(m.Invitation, view, pk)))
            world.record(f"admin invitation-use change {persona}", site.get(_admin(m.InvitationUse, "change", pk)))
            world.record(f"admin invitation-use delete {persona}", site.get(_admin(m.InvitationUse, "delete", pk)))
        world.record("admin bulk delete confirmation", site.post(_admin(m.Invitation, "changelist"), {
            "action": "delete_selected", "_selected_action": list(world.base.staff.values())}))

    assert_no_oracle(in_every_world(base, monkeypatch, script))


def test_a_staff_invitation_can_be_deleted_in_the_admin_whether_used_or_not(base):
    # A used one must not be held back by its (hidden) use: that refusal would be the oracle.
    services.response_submit(wave=base.wave, side=m.Side.STAFF, answers={"fast": 4, "easy": 2}, language="en",
                             invitation=m.Invitation.objects.get(pk=base.staff["alice"]),
                             channel=m.Channel.INVITATION)
    for persona in STAFF:
        page = base.site.post(_admin(m.Invitation, "delete", base.staff[persona]), {"post": "yes"})
        assert page.status_code == 302, page.content.decode()[:2000]
    assert not m.Invitation.objects.filter(pk__in=base.staff.values()).exists()
    assert not m.InvitationUse.objects.filter(invitation_id__in=base.staff.values()).exists()
    assert m.SurveyResponse.objects.filter(wave=base.wave, side=m.Side.STAFF).count() == 1  # the answer stays


# --------------------------------------------------------------------------- customers are not promised this


def test_customer_invitations_keep_their_answered_status_reminders_and_counts(base, monkeypatch):
    services.invitation_create(wave=base.wave, side=m.Side.CUSTOMER, email="dave@client.example", name="Dave",
                               language="en")
    call_command("send_invitations", "--wave", base.wave.slug, "--side", "customer", stdout=io.StringIO(),
                 stderr=io.StringIO())
    carol = m.Invitation.objects.get(pk=base.customer)
    services.response_submit(wave=base.wave, side=m.Side.CUSTOMER, answers={"fast": 3, "easy": 3}, language="en",
                             invitation=carol, channel=m.Channel.INVITATION)
    admin = base.clients["admin"]
    mail.outbox.clear()
    reminded = admin.post(f"/api/v1/waves/{base.wave.pk}/invitations/remind/", {"side": "customer"}, format="json")
    assert reminded.status_code == 200
    assert (reminded.data["sent"], reminded.data["skipped_answered"], reminded.data["failed"]) == (1, 0, [])
    assert [msg.to for msg in mail.outbox] == [["dave@client.example"]]
    rows = {r["email"]: r for r in admin.get(f"/api/v1/waves/{base.wave.pk}/invitations/",
                                             {"side": "customer"}).data["results"]}
    assert (rows["carol@client.example"]["status"], rows["carol@client.example"]["reminder_count"]) == ("answered", 0)
    assert (rows["dave@client.example"]["status"], rows["dave@client.example"]["reminder_count"]) == ("sent", 1)
    assert rows["dave@client.example"]["last_reminded_at"] is not None
    answered = admin.get(f"/api/v1/waves/{base.wave.pk}/invitations/", {"status": "answered"}).data["results"]
    assert [r["email"] for r in answered] == ["carol@client.example"]
    resent = admin.post(f"/api/v1/invitations/{carol.pk}/resend/")
    assert (resent.status_code, resent.data["code"]) == (409, "already_answered")
    out = io.StringIO()
    call_command("send_invitations", "--wave", base.wave.slug, "--side", "customer", "--remind", stdout=out,
                 stderr=io.StringIO())
    assert "Sent 1 reminder(s)" in out.getvalue()


def test_staff_rows_carry_delivery_status_only_and_no_reminder_fields(base):
    call_command("send_invitations", "--wave", base.wave.slug, stdout=io.StringIO(), stderr=io.StringIO())
    services.response_submit(wave=base.wave, side=m.Side.STAFF, answers={"fast": 4, "easy": 2}, language="en",
                             invitation=m.Invitation.objects.get(pk=base.staff["alice"]),
                             channel=m.Channel.INVITATION)
    base.clients["admin"].post(f"/api/v1/waves/{base.wave.pk}/invitations/remind/", {}, format="json")
    rows = base.clients["analyst"].get(f"/api/v1/waves/{base.wave.pk}/invitations/",
                                       {"side": "staff"}).data["results"]
    assert [(r["name"], r["status"], r["last_reminded_at"], r["reminder_count"]) for r in rows] == [
        ("Alice", "sent", None, None), ("Bob", "sent", None, None)]
    assert m.Invitation.objects.get(pk=base.staff["bob"]).reminder_count == 1  # kept, never shown
    assert json.dumps(rows).count("answered") == 0


# --------------------------------------------------------------------------- the link itself: only ever emailed


ATTACKER = "attacker@evil.example"  # the admin's own mailbox: what arrives there is an output too


@dataclass
class Creation:
    """Staff invitations an admin created through every channel, and everything the admin saw doing it."""

    outputs: dict[str, str]  # channel → what the admin was shown (API bodies, admin pages, command output)
    minted: list[str]  # every token issued meanwhile (spied; no role sees this)
    emails: list[str]  # the invitees' addresses, one pair (alice, bob) per channel
    mailed: dict[str, list[str]]  # address → the bodies of the emails it received


def _contacts_csv(emails: list[str]) -> bytes:
    return ("email,name,language\n" + "".join(f"{e},{e.split('-')[0].title()},en\n" for e in emails)).encode()


@pytest.fixture
def created_by_admin(base, monkeypatch, tmp_path) -> Creation:
    """The admin creates staff invitations for an Alice and a Bob through each channel that can create them:
    the API (create and import, sent now or not), the Django admin's add page and ``import_contacts``."""
    from surveys import invitation_links

    minted: list[str] = []
    real = invitation_services.new_token

    def spy() -> str:
        minted.append(real())
        return minted[-1]

    monkeypatch.setattr(invitation_services, "new_token", spy)
    monkeypatch.setattr(invitation_links, "new_token", spy)  # reissues (sending again)
    admin, wave, site = base.clients["admin"], base.wave, base.site
    outputs: dict[str, str] = {}
    emails: list[str] = []
    mail.outbox.clear()

    def pair(channel: str) -> list[str]:
        new = [f"{persona}-{channel}@mirror.example" for persona in STAFF]
        emails.extend(new)
        return new

    for send in (False, True):
        response = admin.post(f"/api/v1/waves/{wave.pk}/invitations/", {
            "side": "staff", "send": send,
            "contacts": [{"email": e, "name": e.split("-")[0].title(), "language": "en"}
                         for e in pair(f"api{int(send)}")]}, format="json")
        assert response.status_code == 201, response.content
        outputs[f"API create send={send}"] = response.content.decode()
        upload = io.BytesIO(_contacts_csv(pair(f"import{int(send)}")))
        upload.name = "staff.csv"
        response = admin.post(f"/api/v1/waves/{wave.pk}/invitations/import/",
                              {"side": "staff", "file": upload, "send": str(send).lower()}, format="multipart")
        assert response.status_code == 201, response.content
        outputs[f"API import send={send}"] = response.content.decode()
    for email, button in zip(pair("admin"), ("_save", "_continue"), strict=True):
        # "Save" lands on the list, "Save and continue editing" on the new invitation: the message shows there.
        before = set(m.Invitation.objects.values_list("pk", flat=True))
        page = site.post(_admin(m.Invitation, "add"), {
            "wave": wave.pk, "side": "staff", "email": email, "name": email.split("-")[0].title(), "language": "en",
            "segments": "{}", button: "1"}, follow=True)
        assert page.status_code == 200
        outputs[f"admin add {email} {button}"] = page.content.decode()
        (new,) = set(m.Invitation.objects.values_list("pk", flat=True)) - before
        outputs[f"admin change page {email}"] = site.get(_admin(m.Invitation, "change", new)).content.decode()
    for send in (False, True):
        path = tmp_path / f"staff-{int(send)}.csv"
        path.write_bytes(_contacts_csv(pair(f"command{int(send)}")))
        out, err = io.StringIO(), io.StringIO()
        call_command("import_contacts", str(path), "--wave", wave.slug, "--side", "staff",
                     *(["--send"] if send else []), stdout=out, stderr=err)
        outputs[f"import_contacts send={send}"] = f"stdout: {out.getvalue()}\nstderr: {err.getvalue()}"
    mailed: dict[str, list[str]] = {}
    for message in mail.outbox:
        for to in message.to:
            mailed.setdefault(to, []).append(message.body)
    assert m.Invitation.objects.filter(wave=wave, side=m.Side.STAFF, email__in=emails).count() == len(emails)
    return Creation(outputs=outputs, minted=minted, emails=emails, mailed=mailed)


def test_creating_staff_invitations_shows_the_admin_no_link_and_no_token(created_by_admin):
    """Through every channel: no link, no token in anything the admin sees; the API says ``link: null``."""
    creation = created_by_admin
    assert len(creation.minted) >= len(creation.emails)
    for channel, text in creation.outputs.items():
        assert not LINK.search(text), f"{channel} shows a link: {LINK.search(text).group(0)}"
        shown = [token for token in creation.minted if token in text]
        assert not shown, f"{channel} shows {len(shown)} token(s)"
        if channel.startswith("API"):
            body = json.loads(text)
            assert [row["link"] for row in body["invitations"]] == [None, None]
            assert body["created"] == 2


def test_a_staff_link_is_only_ever_emailed_to_the_address_on_its_invitation(created_by_admin):
    creation = created_by_admin
    for address, bodies in creation.mailed.items():
        for body in bodies:
            for token in re.findall(r"/r/([A-Za-z0-9_-]+)/", body):
                assert services.invitation_by_token(token=token).email == address
    sent_now = [e for e in creation.emails if re.search(r"-(api1|import1|command1)@", e)]
    assert sorted(creation.mailed) == sorted(sent_now)


def test_an_admin_who_created_staff_invitations_cannot_tell_who_answered(base, created_by_admin, monkeypatch):
    """The attack: keep whatever link creating the invitations showed, then open it once colleagues answered
    ("already answered" versus the form). Every Alice and Bob answer through their own invitation."""
    shown = created_by_admin.outputs.values()
    harvested = sorted({link for text in shown for link in LINK.findall(text)}
                       | {f"/r/{token}/" for token in created_by_admin.minted if any(token in text for text in shown)})
    public = Client()

    def script(world: World) -> None:
        world.tick()
        for email in created_by_admin.emails:
            if email.split("-")[0] in world.answered:
                services.response_submit(wave=base.wave, side=m.Side.STAFF, answers={"fast": 4, "easy": 2},
                                         language="en", invitation=m.Invitation.objects.get(email=email),
                                         channel=m.Channel.INVITATION)
        world.tick()
        world.record_text("links the admin kept", f"{len(harvested)} link(s)")
        for index, link in enumerate(harvested):
            world.record(f"GET kept link #{index}", public.get(link))
            world.record(f"POST kept link #{index}", public.post(link, {"fast": "3", "easy": "3"}))

    assert_no_oracle(in_every_world(base, monkeypatch, script))
    assert harvested == []


def test_an_admin_cannot_redirect_a_staff_invitation_to_their_own_mailbox(base, monkeypatch):
    """The attack: change a colleague's staff invitation to the admin's own address in the Django admin,
    then resend it and remind: a fresh link arrives only for an invitation not used yet."""

    def script(world: World) -> None:
        _send_first_round(world)
        world.answer()
        mail.outbox.clear()
        for persona, pk in world.base.staff.items():
            page = world.base.site.post(_admin(m.Invitation, "change", pk), {
                "email": ATTACKER, "name": persona.title(), "language": "en", "segments": "{}"})
            world.record(f"admin change {persona}", page)
            world.tick()
            world.record(f"resend {persona}", world.base.clients["admin"].post(f"/api/v1/invitations/{pk}/resend/"))
            world.tick()
        world.command("--remind", "--side", "staff")
        world.tick()
        inbox = [msg.subject for msg in mail.outbox if ATTACKER in msg.to]
        world.record_text("the admin's own inbox", json.dumps(inbox))
        assert sorted(m.Invitation.objects.filter(pk__in=world.base.staff.values()).values_list("email", flat=True)) \
            == [f"{persona}@mirror.example" for persona in STAFF]

    seen = in_every_world(base, monkeypatch, script)
    assert_no_oracle(seen)
    assert {outputs["the admin's own inbox"] for outputs in seen.values()} == {"[]"}


# --------------------------------------------------------------------------- staff invitations need an address


def test_staff_invitations_without_an_address_are_refused_by_the_api_the_admin_and_import(base, tmp_path):
    admin, wave = base.clients["admin"], base.wave
    before = m.Invitation.objects.count()
    response = admin.post(f"/api/v1/waves/{wave.pk}/invitations/", {
        "side": "staff", "contacts": [{"email": "ok@mirror.example"}, {"name": "No Mail"}]}, format="json")
    assert response.status_code == 400
    assert response.data["contacts[1].email"] == [services.STAFF_EMAIL_REQUIRED]
    assert "anonymous staff link" in services.STAFF_EMAIL_REQUIRED

    upload = io.BytesIO(b"email,name\nok@mirror.example,Ok\n,No Mail\n")
    upload.name = "staff.csv"
    refused = admin.post(f"/api/v1/waves/{wave.pk}/invitations/import/", {"side": "staff", "file": upload},
                         format="multipart")
    assert (refused.status_code, refused.data["code"]) == (400, "import_failed")
    assert [(e["row"], e["column"], e["message"]) for e in refused.data["errors"]] == [
        (3, "email", services.STAFF_EMAIL_REQUIRED)]
    assert m.Invitation.objects.count() == before

    upload = io.BytesIO(b"email,name\nok@mirror.example,Ok\n,No Mail\n")
    upload.name = "staff.csv"
    skipped = admin.post(f"/api/v1/waves/{wave.pk}/invitations/import/",
                         {"side": "staff", "file": upload, "skip_bad_rows": "true"}, format="multipart")
    assert (skipped.status_code, skipped.data["created"]) == (201, 1)
    assert [(e["row"], e["column"]) for e in skipped.data["skipped"]] == [(3, "email")]
    assert m.Invitation.objects.filter(wave=wave, email="ok@mirror.example").count() == 1

    page = base.site.post(_admin(m.Invitation, "add"), {"wave": wave.pk, "side": "staff", "email": "",
                                                        "name": "No Mail", "language": "en", "segments": "{}"})
    assert page.status_code == 200 and "anonymous staff link" in page.content.decode()
    assert page.context["adminform"].form.errors["email"] == [services.STAFF_EMAIL_REQUIRED]

    path = tmp_path / "staff.csv"
    path.write_bytes(b"email,name\nnew@mirror.example,New\n,No Mail\n")
    with pytest.raises(CommandError, match="Row 3, column 'email'"):
        call_command("import_contacts", str(path), "--wave", wave.slug, "--side", "staff", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert not m.Invitation.objects.filter(email="new@mirror.example").exists()
    assert m.Invitation.objects.filter(wave=wave, side=m.Side.STAFF, email="").count() == 0

    # Customers without an address stay allowed (their link is shown once, as before), and so does the
    # services level, which the demo and tests use.
    customer = admin.post(f"/api/v1/waves/{wave.pk}/invitations/", {
        "side": "customer", "contacts": [{"name": "Walk-in"}]}, format="json")
    assert customer.status_code == 201 and LINK.search(customer.data["invitations"][0]["link"])
    assert services.invitation_create(wave=wave, side=m.Side.STAFF).invitation.email == ""
