"""Fixtures of the staff API tests: one organization's world, and a sliver of another's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from reports.models import ReportJob
from surveys import member_invitations, services
from surveys import models as m
from tests import factories as f


def make_instrument(org: m.Organization | None, key: str, **kwargs) -> m.Instrument:
    inst = f.InstrumentFactory(organization=org, key=key, is_builtin=org is None, **kwargs)
    dim = f.DimensionFactory(instrument=inst, key="speed")
    f.ItemPairFactory(dimension=dim, instrument=inst, key="fast", allow_na=True)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="easy", allow_na=True)
    m.ItemPair.objects.create(instrument=inst, key="nps", kind=m.ItemKind.NPS, customer_text_en="Recommend {company}?",
                              customer_text_ja="{company}を推奨しますか", scale_points=10, topbox_levels=[9, 10])
    return inst


@dataclass
class World:
    org: m.Organization
    builtin: m.Instrument
    instrument: m.Instrument  # frozen: the waves use it
    editable: m.Instrument
    draft: m.Wave
    open: m.Wave
    closed: m.Wave
    account: m.CustomerAccount
    invitation: m.Invitation  # staff, open wave, not answered, has an email
    token: str
    analyst_membership: m.Membership
    member_invitation: m.MembershipInvitation  # pending, to an address nobody has
    import_job: m.ImportJob  # a finished background import of accounts
    report_job: ReportJob  # a queued PDF report of the open wave
    other_wave: m.Wave
    other_account: m.CustomerAccount


@pytest.fixture
def world(org, other_org, owner, analyst, executive, outsider) -> World:
    builtin = make_instrument(None, "test-core")
    instrument = make_instrument(org, "mirror")
    editable = make_instrument(org, "draft-instrument")
    draft = services.wave_create(organization=org, instrument=instrument, name="Spring", slug="spring")
    opened = services.wave_open(wave=services.wave_create(organization=org, instrument=instrument, name="Summer",
                                                          slug="summer"))
    closed = services.wave_create(organization=org, instrument=instrument, name="Autumn", slug="autumn")
    services.wave_open(wave=closed)
    services.wave_close(wave=closed)
    account = f.CustomerAccountFactory(organization=org, external_id="ACME", tier="Gold")
    issued = services.invitation_create(wave=opened, side=m.Side.STAFF, email="hanako@example.com",
                                        name="Hanako", language="ja", segments={"department": "Sales"})
    m.Invitation.objects.filter(pk=issued.invitation.pk).update(sent_at="2025-04-01T09:00:00+09:00")
    services.response_submit(wave=opened, side=m.Side.STAFF, answers={"fast": 4, "easy": "na"}, language="en",
                             segments={"department": "Sales"}, channel=m.Channel.ANONYMOUS)
    services.response_submit(wave=opened, side=m.Side.CUSTOMER, answers={"fast": 2, "easy": 3, "nps": 9},
                             language="ja", segments={"tier": "Gold"}, channel=m.Channel.ANONYMOUS, weight=2.0)
    other_instrument = make_instrument(other_org, "theirs")
    other_wave = services.wave_create(organization=other_org, instrument=other_instrument, name="Theirs",
                                      slug="theirs")
    other_account = f.CustomerAccountFactory(organization=other_org, external_id="THEIRS")
    return World(
        org=org, builtin=builtin, instrument=instrument, editable=editable, draft=draft, open=opened, closed=closed,
        account=account, invitation=issued.invitation, token=issued.token,
        analyst_membership=m.Membership.objects.get(user=analyst, organization=org),
        member_invitation=m.MembershipInvitation.objects.create(  # made directly: no mail in the outbox
            organization=org, email="invitee@example.com", role="analyst", token_hash=m.hash_token(m.new_token()),
            invited_by=owner, expires_at=timezone.now() + member_invitations.VALID_FOR),
        import_job=m.ImportJob.objects.create(kind=m.ImportJob.Kind.ACCOUNTS, organization=org, status="done",
                                              rows_total=1, rows_done=1, created=1, created_by=owner),
        report_job=ReportJob.objects.create(wave=opened, requested_by=owner, language="en", options={},
                                            options_hash="matrix", data_fingerprint="matrix"),
        other_wave=other_wave, other_account=other_account,
    )


def instrument_payload(org_id: int, key: str = "custom") -> dict:
    return {
        "organization": org_id,
        "key": key,
        "name_en": "Custom check",
        "name_ja": "カスタム",
        "dimensions": [{"key": "culture", "name_en": "Culture", "name_ja": "文化"}],
        "items": [
            {"key": "shared", "dimension": "culture", "staff_text_en": "We all own customer success.",
             "staff_text_ja": "全員が顧客の成功に責任を持つ。", "customer_text_en": "Everyone at {company} cares.",
             "customer_text_ja": "{company}の誰もが気にかけてくれる。", "scale_points": 7},
            {"key": "nps", "kind": "nps", "customer_text_en": "Recommend {company}?",
             "customer_text_ja": "{company}を薦めますか?"},
        ],
    }
