"""The core rules: wave state machine, instrument freezing, one response per invitation."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from surveys import errors, services
from surveys import models as m
from tests import factories as f


@pytest.fixture
def instrument(org):
    inst = f.InstrumentFactory(organization=org)
    dim = f.DimensionFactory(instrument=inst)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="speed", allow_na=True)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="ease", allow_na=False)
    m.ItemPair.objects.create(instrument=inst, key="nps", kind=m.ItemKind.NPS, customer_text_en="Recommend?",
                              customer_text_ja="推奨しますか", allow_na=False, topbox_levels=[9, 10])
    return inst


@pytest.fixture
def wave(org, instrument):
    return services.wave_create(organization=org, instrument=instrument, name="Spring", slug="spring")


def test_a_new_wave_is_a_draft_with_two_anonymous_links_and_freezes_its_instrument(wave, instrument):
    assert wave.status == m.WaveStatus.DRAFT
    assert sorted(wave.anonymous_links.values_list("side", flat=True)) == ["customer", "staff"]
    instrument.refresh_from_db()
    assert instrument.is_frozen
    with pytest.raises(errors.InstrumentFrozen):
        services.instrument_ensure_editable(instrument=instrument)


def test_editing_a_frozen_instrument_means_a_new_version(wave, instrument):
    new = services.instrument_new_version(instrument=instrument)
    assert (new.key, new.version, new.is_frozen) == (instrument.key, 2, False)
    assert sorted(new.items.values_list("key", flat=True)) == ["ease", "nps", "speed"]
    assert new.dimensions.count() == 1
    assert set(new.items.exclude(dimension=None).values_list("dimension__instrument", flat=True)) == {new.pk}
    services.instrument_ensure_editable(instrument=new)  # does not raise


def test_the_wave_state_machine_goes_draft_open_closed_and_never_back_silently(wave):
    with pytest.raises(errors.InvalidTransition):
        services.wave_close(wave=wave)
    wave = services.wave_open(wave=wave)
    assert wave.status == "open" and wave.opened_at is not None
    wave = services.wave_close(wave=wave)
    assert wave.status == "closed" and wave.closed_at is not None
    with pytest.raises(errors.InvalidTransition, match="reopen"):
        services.wave_open(wave=wave)
    with pytest.raises(errors.InvalidTransition):
        services.wave_set_status(wave=wave, status="draft", reopen=True)
    wave = services.wave_set_status(wave=wave, status="open", reopen=True)
    assert wave.status == "open" and wave.closed_at is None
    # Reopening is for closed waves only, decided by the service (not by each interface that offers it).
    with pytest.raises(errors.InvalidTransition, match="Only a closed wave can be reopened"):
        services.wave_set_status(wave=wave, status="open", reopen=True)


def test_reopen_does_not_open_a_draft(db, org, instrument):
    draft = services.wave_create(organization=org, instrument=instrument, name="Draft", slug="draft-reopen")
    with pytest.raises(errors.InvalidTransition, match="Only a closed wave can be reopened; this one is draft"):
        services.wave_set_status(wave=draft, status="open", reopen=True)
    assert m.Wave.objects.get(pk=draft.pk).status == "draft"


def test_a_draft_wave_collects_nothing(wave):
    with pytest.raises(errors.WaveNotCollecting):
        services.response_submit(wave=wave, side="staff", answers={"speed": 4, "ease": 5}, language="en")
    assert m.SurveyResponse.objects.count() == 0


def test_an_invitation_is_used_once_and_stores_only_a_hash_of_its_token(wave):
    services.wave_open(wave=wave)
    issued = services.invitation_create(wave=wave, side="customer", email="c@example.com")
    assert issued.token not in issued.invitation.token_hash and len(issued.invitation.token_hash) == 64
    inv = services.invitation_by_token(token=issued.token)
    answers = {"speed": 4, "ease": 2, "nps": 9}
    resp = services.response_submit(wave=wave, side="customer", answers=answers, language="en",
                                    channel="invitation", invitation=inv)
    assert resp.invitation_id == inv.pk
    with pytest.raises(errors.AlreadyAnswered):
        services.response_submit(wave=wave, side="customer", answers=answers, language="en",
                                 channel="invitation", invitation=inv)
    assert m.SurveyResponse.objects.count() == 1
    assert sorted(resp.answers.values_list("value", flat=True)) == [2, 4, 9]


def test_one_use_per_invitation_is_a_database_constraint(wave):
    issued = services.invitation_create(wave=wave, side="staff")
    m.InvitationUse.objects.create(invitation=issued.invitation)
    with pytest.raises(IntegrityError):
        m.InvitationUse.objects.create(invitation=issued.invitation)


def test_a_staff_response_is_not_linkable_to_its_invitation(wave):
    services.wave_open(wave=wave)
    issued = services.invitation_create(wave=wave, side="staff", email="s@example.com",
                                        segments={"department": "Sales"})
    resp = services.response_submit(wave=wave, side="staff", answers={"speed": "na", "ease": 5}, language="ja",
                                    channel="invitation", invitation=issued.invitation, required=False)
    resp.refresh_from_db()
    assert resp.invitation_id is None and resp.submitted_at is None and resp.customer_account_id is None
    assert resp.segments == {"department": "Sales"}
    assert m.InvitationUse.objects.filter(invitation=issued.invitation).exists()
    with pytest.raises(IntegrityError):
        m.SurveyResponse.objects.create(wave=wave, side="staff", invitation=issued.invitation)


def test_bad_answers_are_reported_per_field(wave):
    services.wave_open(wave=wave)
    with pytest.raises(errors.ValidationFailed) as exc:
        services.response_submit(wave=wave, side="customer", answers={"speed": 9, "ease": "na", "bogus": 1,
                                                                        "nps": "x"}, language="en")
    assert set(exc.value.field_errors) == {"answers.speed", "answers.ease", "answers.bogus", "answers.nps"}
    assert exc.value.field_errors["answers.speed"] == ["Must be between 1 and 5."]
    assert m.SurveyResponse.objects.count() == 0


def test_staff_are_not_asked_customer_only_outcome_items(wave):
    keys = [i.key for i in services.survey_items(wave=wave, side="staff")]
    assert "nps" not in keys and set(keys) == {"speed", "ease"}


def test_the_anonymity_threshold_can_never_go_below_three(org, instrument):
    with pytest.raises(IntegrityError):
        f.WaveFactory(organization=org, instrument=instrument, anonymity_threshold=2)


def test_an_imported_customer_response_can_name_its_account_and_its_date(wave, org):
    import datetime as dt

    account = f.CustomerAccountFactory(organization=org, tier="Gold")
    resp = services.response_submit(wave=wave, side="customer", answers={"speed": 4, "ease": 2, "nps": 7},
                                    language="en", channel="import", customer_account=account,
                                    submitted_on=dt.date(2026, 5, 1))
    assert resp.customer_account_id == account.pk and resp.submitted_on == dt.date(2026, 5, 1)
    assert resp.segments.get("tier") == "Gold"
    with pytest.raises(errors.ValidationFailed):
        services.response_submit(wave=wave, side="staff", answers={"speed": 4, "ease": 2}, language="en",
                                 channel="import", customer_account=account)
    services.wave_open(wave=wave)
    with pytest.raises(errors.ValidationFailed):
        services.response_submit(wave=wave, side="customer", answers={"speed": 4, "ease": 2, "nps": 1},
                                 language="en", channel="anonymous", submitted_on=dt.date(2026, 5, 1))
