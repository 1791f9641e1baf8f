"""Fixtures of the security tests: two organizations with real data, and every role's credentials.

``home`` is the organization the cast belongs to (owner/admin, analyst, executive);
``away`` is another organization (``outsider`` is its admin) whose objects nobody
else may see. Both have a wave with responses, invitations, accounts, memberships
and a report job, built through the services.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from reports.models import ReportJob
from surveys import member_invitations, releases, services
from surveys import models as m
from tests import factories as f


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The test client fires request_started/finished; on PostgreSQL close_old_connections would
    close the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()  # public-form rate limits live in the cache
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


def build_instrument(org: m.Organization, key: str) -> m.Instrument:
    inst = f.InstrumentFactory(organization=org, key=key)
    culture = f.DimensionFactory(instrument=inst, key="culture", order=1, name_en="Culture", name_ja="文化")
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c1", order=1, is_headline=True)
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c2", order=2)
    f.ItemPairFactory(instrument=inst, dimension=culture, key="c3", order=3, allow_na=False)
    m.ItemPair.objects.create(instrument=inst, key="nps", order=9, kind=m.ItemKind.NPS,
                              customer_text_en="Recommend {company}?", customer_text_ja="{company}を推奨しますか",
                              scale_points=10, allow_na=False, topbox_levels=[9, 10])
    return inst


@dataclass
class Tenant:
    org: m.Organization
    instrument: m.Instrument  # frozen (used by the waves)
    editable: m.Instrument
    wave: m.Wave  # open, with responses
    draft: m.Wave
    account: m.CustomerAccount
    invitation: m.Invitation  # customer, unanswered
    token: str
    staff_invitation: m.Invitation
    staff_token: str
    membership: m.Membership  # a non-admin member
    report: ReportJob
    member_invitation: m.MembershipInvitation  # pending
    member_token: str  # its /accounts/join/ link's
    secrets: list[str] = field(default_factory=list)  # strings that must never leak to other tenants


def build_tenant(org: m.Organization, prefix: str, member) -> Tenant:
    instrument = build_instrument(org, f"{prefix}-inst")
    editable = build_instrument(org, f"{prefix}-draft-inst")
    wave = services.wave_create(organization=org, instrument=instrument, name=f"{prefix.title()} Wave",
                                slug=f"{prefix}-wave")
    services.wave_open(wave=wave)
    draft = services.wave_create(organization=org, instrument=instrument, name=f"{prefix.title()} Draft",
                                 slug=f"{prefix}-draft")
    account = f.CustomerAccountFactory(organization=org, external_id=f"{prefix.upper()}-ACC",
                                       name=f"{prefix.title()} Customer KK")
    values = itertools.cycle([1, 2, 3, 4, 5])
    for i in range(6):
        services.response_submit(wave=wave, side=m.Side.STAFF, language="en",
                                 answers={"c1": next(values), "c2": next(values), "c3": next(values)},
                                 segments={"department": "Sales"}, comment=f"{prefix} staff secret {i}")
        services.response_submit(wave=wave, side=m.Side.CUSTOMER, language="ja",
                                 answers={"c1": next(values), "c2": "na", "c3": next(values), "nps": i + 4},
                                 segments={"tier": "Gold"}, customer_account=account)
    releases.publish_due(wave)  # published, so every output of the own organization has them to show
    issued = services.invitation_create(wave=wave, side=m.Side.CUSTOMER, email=f"{prefix}.customer@{prefix}.example",
                                        name=f"{prefix.title()} Contact", customer_account=account)
    staff_issued = services.invitation_create(wave=wave, side=m.Side.STAFF, email=f"{prefix}.staff@{prefix}.example",
                                              name=f"{prefix.title()} Employee")
    membership = m.Membership.objects.create(organization=org, role=m.Role.ANALYST, user=member)
    report = ReportJob.objects.create(wave=wave, language="en", options_hash="0" * 64, data_fingerprint="x")
    member_invitation = member_invitations.invite(organization=org, email=f"invitee@{prefix}.example",
                                                  role=m.Role.ANALYST, invited_by=None)
    member_token = re.search(r"/accounts/join/([\w-]+)/", mail.outbox[-1].body).group(1)
    tenant = Tenant(org=org, instrument=instrument, editable=editable, wave=wave, draft=draft, account=account,
                    invitation=issued.invitation, token=issued.token, staff_invitation=staff_issued.invitation,
                    staff_token=staff_issued.token, membership=membership, report=report,
                    member_invitation=member_invitation, member_token=member_token)
    tenant.secrets = [org.name, org.slug, wave.name, wave.slug, draft.slug, account.external_id, account.name,
                      issued.invitation.email, staff_issued.invitation.email, member.username, member.email,
                      f"{prefix} staff secret", member_invitation.email]
    return tenant


@pytest.fixture
def home(org, owner, analyst, executive) -> Tenant:
    return build_tenant(org, "home", f.UserFactory(username="home-member", email="member@home.example"))


@pytest.fixture
def away(other_org, outsider) -> Tenant:
    other_org.name, other_org.slug = "Faraway Holdings", "faraway"
    other_org.save()
    return build_tenant(other_org, "away", f.UserFactory(username="away-member", email="member@away.example"))


@pytest.fixture
def tokens(owner, analyst, executive, outsider) -> dict[str, str]:
    """API tokens of the cast, by role name (the fuzzing goes through the WSGI app, not APIClient)."""
    users = {"admin": owner, "analyst": analyst, "executive": executive, "outsider": outsider}
    return {role: Token.objects.create(user=user).key for role, user in users.items()}
