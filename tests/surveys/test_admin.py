"""The Django admin on real (demo) data: every page renders, search works, integrity is protected."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from surveys import models as m
from surveys import services
from surveys.demo import demo_delete
from surveys.instruments.loader import builtin_instrument
from surveys.models import hash_token
from tests import factories as f

SURVEY_MODELS = sorted((model for model in admin.site._registry if model._meta.app_label == "surveys"),
                       key=lambda model: model.__name__)


def url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:surveys_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(scope="module")
def demo_org_id(django_db_setup, django_db_blocker) -> int:
    """The demo (20 responses a side and wave), loaded once for the module and removed after; what a test
    changes rolls back with its transaction."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--responses", "20", stdout=StringIO(), stderr=StringIO())
        org_id = m.Organization.objects.get(slug="demo").pk
    yield org_id
    with django_db_blocker.unblock():
        demo_delete()


@pytest.fixture
def demo(db, demo_org_id) -> m.Organization:
    return m.Organization.objects.get(pk=demo_org_id)


@pytest.fixture
def superuser(db):
    return f.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def site(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def draft_instrument(demo) -> m.Instrument:
    inst = f.InstrumentFactory(organization=demo, key="draft-check", name_en="Draft check")
    dim = f.DimensionFactory(instrument=inst, key="speed")
    f.ItemPairFactory(instrument=inst, dimension=dim, key="speed_reply")
    return inst


@pytest.fixture
def draft_wave(demo, draft_instrument) -> m.Wave:
    return services.wave_create(organization=demo, instrument=draft_instrument, name="2027 H1", slug="demo-2027-h1")


def test_every_surveys_model_is_registered():
    names = {model.__name__ for model in SURVEY_MODELS}
    assert names == {"Organization", "Membership", "Instrument", "Dimension", "ItemPair", "Wave", "Invitation",
                     "InvitationUse", "AnonymousLink", "CustomerAccount", "SurveyResponse", "Answer", "AuditEvent"}


@pytest.mark.parametrize("model", SURVEY_MODELS, ids=lambda model: model.__name__)
def test_each_changelist_and_change_page_renders_on_demo_data(site, demo, model):
    if model is m.AuditEvent:
        services.audit_record(organization_id=demo.pk, user=None, action="gap_view",
                              wave=demo.waves.first(), details={"staff": {"department": "Sales"}})
    listing = site.get(url(model, "changelist"))
    assert listing.status_code == 200
    objects = model.objects.order_by("pk")
    if model is m.InvitationUse:
        objects = objects.filter(invitation__side="customer")  # a staff invitation's use is never shown (P1)
    if model is m.SurveyResponse:
        objects = objects.filter(side="customer")  # staff rows leave only as microdata (P6)
    if model is m.Answer:
        objects = objects.filter(response__side="customer")
    obj = objects.first()
    assert obj is not None, f"the demo has no {model.__name__}"
    page = site.get(url(model, "change", obj.pk))
    assert page.status_code == 200
    assert str(obj) in page.content.decode()


@pytest.mark.parametrize("model", [m.Organization, m.Membership, m.Instrument, m.Dimension, m.ItemPair, m.Wave,
                                   m.CustomerAccount, m.Invitation], ids=lambda model: model.__name__)
def test_add_pages_render_where_adding_is_allowed(site, demo, model):
    assert site.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize(("model", "query", "expected", "absent"), [
    (m.Organization, "ミラー", "Kagami Demo", None),
    (m.CustomerAccount, "DEMO-0007", "DEMO-0007", "DEMO-0008"),
    (m.ItemPair, "superior", "headline_superior_experience", "speed_response"),
    (m.Wave, "h2", "2026 H2", "2026 H1"),
    (m.Membership, "demo-exec", "demo-exec", "demo-analyst"),
    (m.Invitation, "staff-0003@", "staff-0003@mirror-trading.example", "staff-0004@"),
])
def test_search_finds_the_row_and_only_matching_rows(site, demo, model, query, expected, absent):
    page = site.get(url(model, "changelist"), {"q": query})
    assert page.status_code == 200
    html = page.content.decode()
    assert expected in html
    if absent:
        assert absent not in html


def test_search_on_responses_and_answers_by_id_works(site, demo):
    response = m.SurveyResponse.objects.filter(side="customer").order_by("pk").first()
    page = site.get(url(m.SurveyResponse, "changelist"), {"q": str(response.pk)})
    assert page.status_code == 200 and str(response.pk) in page.content.decode()
    page = site.get(url(m.Answer, "changelist"), {"q": str(response.pk)})
    assert page.status_code == 200
    assert page.context["cl"].result_count == response.answers.count()


def test_a_frozen_instrument_is_read_only_with_read_only_inlines(site, demo):
    instrument = demo.instruments.get(key="kagami-core")
    assert instrument.is_frozen
    page = site.get(url(m.Instrument, "change", instrument.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="name_en"' not in html and 'name="items-0-key"' not in html and 'name="dimensions-0-key"' not in html
    assert "headline_superior_experience" in html  # the items are shown, just not editable
    before = instrument.name_en
    post = site.post(url(m.Instrument, "change", instrument.pk), {"name_en": "Hacked", "key": "x", "version": 1})
    assert post.status_code == 403
    instrument.refresh_from_db()
    assert instrument.name_en == before


def test_the_items_and_dimensions_of_a_frozen_instrument_are_read_only_too(site, demo):
    item = m.ItemPair.objects.filter(instrument__organization=demo).first()
    page = site.get(url(m.ItemPair, "change", item.pk))
    assert page.status_code == 200 and 'name="customer_text_en"' not in page.content.decode()
    assert site.post(url(m.ItemPair, "change", item.pk), {"key": "changed"}).status_code == 403
    dim = m.Dimension.objects.filter(instrument__organization=demo).first()
    assert site.post(url(m.Dimension, "change", dim.pk), {"key": "changed"}).status_code == 403
    item.refresh_from_db()
    dim.refresh_from_db()
    assert item.key != "changed" and dim.key != "changed"


def test_the_builtin_instrument_is_read_only(site, demo):
    # Installed here, not assumed from the migrations: a transactional test on the same worker flushes the
    # migrations' rows, and the loader reinstalls only the versions asked for.
    builtin_instrument(1)
    builtin_instrument(2)
    builtins = list(m.Instrument.objects.filter(organization__isnull=True, key="kagami-core"))
    assert sorted(b.version for b in builtins) == [1, 2]  # v2 adds touchpoints (migration 0014)
    for builtin in builtins:
        page = site.get(url(m.Instrument, "change", builtin.pk))
        assert page.status_code == 200 and 'name="name_en"' not in page.content.decode()


def test_a_draft_instrument_is_editable_with_its_inlines(site, draft_instrument):
    html = site.get(url(m.Instrument, "change", draft_instrument.pk)).content.decode()
    assert 'name="name_en"' in html and 'name="items-0-key"' in html and 'name="dimensions-0-key"' in html


def test_the_new_version_action_copies_a_frozen_instrument_into_an_editable_one(site, demo):
    instrument = demo.instruments.get(key="kagami-core")
    page = site.post(url(m.Instrument, "changelist"),
                     {"action": "new_version", "_selected_action": [instrument.pk]}, follow=True)
    assert page.status_code == 200
    v2 = demo.instruments.get(key="kagami-core", version=2)
    assert v2.frozen_at is None and v2.items.count() == instrument.items.count()
    assert "Created" in page.content.decode()


def test_the_new_version_action_explains_why_the_builtin_cannot_be_versioned(site, demo):
    builtin = m.Instrument.objects.get(organization__isnull=True, key="kagami-core", version=1)
    page = site.post(url(m.Instrument, "changelist"),
                     {"action": "new_version", "_selected_action": [builtin.pk]}, follow=True)
    assert page.status_code == 200
    assert "clone it first" in page.content.decode()
    # No organization got a version 2 (the built-in v2 of migration 0014 is Kagami's own).
    assert m.Instrument.objects.filter(organization__isnull=False, key="kagami-core", version=2).count() == 0


def test_wave_actions_go_through_the_state_machine(site, draft_wave):
    changelist = url(m.Wave, "changelist")
    page = site.post(changelist, {"action": "close_waves", "_selected_action": [draft_wave.pk]}, follow=True)
    assert "A draft wave cannot become closed" in page.content.decode()
    draft_wave.refresh_from_db()
    assert draft_wave.status == "draft"
    site.post(changelist, {"action": "open_waves", "_selected_action": [draft_wave.pk]})
    draft_wave.refresh_from_db()
    assert draft_wave.status == "open" and draft_wave.opened_at is not None
    site.post(changelist, {"action": "close_waves", "_selected_action": [draft_wave.pk]})
    draft_wave.refresh_from_db()
    assert draft_wave.status == "closed"


def test_the_wave_status_is_not_a_form_field(site, draft_wave):
    html = site.get(url(m.Wave, "change", draft_wave.pk)).content.decode()
    assert 'name="status"' not in html and 'name="instrument"' not in html and 'name="name"' in html


def test_adding_a_wave_in_the_admin_uses_wave_create(site, demo, draft_instrument):
    data = {
        "organization": demo.pk, "instrument": draft_instrument.pk, "name": "Autumn", "slug": "demo-autumn",
        "languages": '["ja", "en"]', "default_language": "ja", "anonymity_threshold": 5, "customer_threshold": 5,
        "staff_segment_fields": "[]", "customer_segment_fields": "[]",
    }
    page = site.post(url(m.Wave, "add"), data)
    assert page.status_code == 302, page.content.decode()[:2000]
    wave = m.Wave.objects.get(slug="demo-autumn")
    assert wave.status == "draft"
    assert sorted(wave.anonymous_links.values_list("side", flat=True)) == ["customer", "staff"]
    draft_instrument.refresh_from_db()
    assert draft_instrument.is_frozen


def test_a_wave_cannot_be_added_on_another_organizations_instrument(site, demo, other_org):
    foreign = f.InstrumentFactory(organization=other_org)
    data = {"organization": demo.pk, "instrument": foreign.pk, "name": "X", "slug": "x-wave",
            "languages": '["ja"]', "default_language": "ja", "anonymity_threshold": 5, "customer_threshold": 5,
            "staff_segment_fields": "[]", "customer_segment_fields": "[]"}
    page = site.post(url(m.Wave, "add"), data)
    assert page.status_code == 200
    assert "belongs to another organization" in page.content.decode()
    assert not m.Wave.objects.filter(slug="x-wave").exists()


@pytest.mark.parametrize("model", [m.SurveyResponse, m.Answer, m.InvitationUse, m.AnonymousLink],
                         ids=lambda model: model.__name__)
def test_service_written_rows_cannot_be_added_by_hand(site, demo, model):
    assert site.get(url(model, "add")).status_code == 403
    assert site.post(url(model, "add"), {}).status_code == 403


def test_responses_and_answers_cannot_be_changed(site, demo):
    response = m.SurveyResponse.objects.filter(side="customer").first()
    page = site.get(url(m.SurveyResponse, "change", response.pk))
    assert page.status_code == 200 and 'name="comment"' not in page.content.decode()
    assert "answers_packed" not in page.content.decode()  # the bytes stay hidden; the inline lists the answers
    assert page.context["inline_admin_formsets"][0].formset.queryset.count() == response.answers.count() > 0
    assert site.post(url(m.SurveyResponse, "change", response.pk), {"comment": "edited"}).status_code == 403
    answer = response.answers.first()
    assert site.post(url(m.Answer, "change", answer.pk), {"value": 1}).status_code == 403
    response.refresh_from_db()
    assert response.comment != "edited"


def test_staff_responses_and_answers_are_not_in_the_admin_at_all(site, demo):
    """Staff rows leave only as k-anonymous microdata (P6): no raw row, day, channel or comment here."""
    staff = m.SurveyResponse.objects.filter(side="staff").first()
    assert site.get(url(m.SurveyResponse, "change", staff.pk)).status_code in (302, 404)
    assert site.post(url(m.SurveyResponse, "delete", staff.pk), {"post": "yes"}).status_code in (302, 404)
    assert m.SurveyResponse.objects.filter(pk=staff.pk).exists()
    page = site.get(url(m.SurveyResponse, "changelist"), {"side": "staff"})
    assert page.status_code in (200, 302) and (page.status_code == 302 or page.context["cl"].result_count == 0)
    listed = site.get(url(m.SurveyResponse, "changelist"), {"q": str(staff.pk)})
    assert listed.context["cl"].result_count == 0
    answer = staff.answers.first()
    assert site.get(url(m.Answer, "change", answer.pk)).status_code in (302, 404)
    assert site.get(url(m.Answer, "changelist"), {"q": str(staff.pk)}).context["cl"].result_count == 0
    customer = m.SurveyResponse.objects.filter(side="customer", invitation__isnull=False).first()
    html = site.get(url(m.SurveyResponse, "change", customer.pk)).content.decode()
    assert "Invitation:" in html and "Customer account:" in html


def test_staff_invitations_never_show_their_use_or_reminders(site, demo):
    """Disclosure promise P1 (tests/security/test_disclosure_invitations.py compares every page whoever answered)."""
    staff = m.Invitation.objects.filter(wave__organization=demo, side="staff", use__isnull=False).first()
    customer = m.Invitation.objects.filter(wave__organization=demo, side="customer", use__isnull=False).first()
    staff_page = site.get(url(m.Invitation, "change", staff.pk)).content.decode()
    customer_page = site.get(url(m.Invitation, "change", customer.pk)).content.decode()
    for label in ("Used:", "Last reminded at:", "Reminder count:"):
        assert label not in staff_page and label in customer_page
    uses = site.get(url(m.InvitationUse, "changelist")).context["cl"]
    assert uses.result_count == m.InvitationUse.objects.filter(invitation__side="customer").count()
    assert site.get(url(m.InvitationUse, "change", staff.pk)).status_code == 302  # as for one never used
    listing = site.get(url(m.Invitation, "changelist"), {"side__exact": "staff", "customer_used": "yes"})
    assert listing.context["cl"].result_count == 0
    for hidden in ({"use__isnull": "False"}, {"use__isempty": "0"}, {"reminder_count__gt": "0"}):
        assert site.get(url(m.Invitation, "changelist"), hidden).status_code == 400
    used_customers = site.get(url(m.Invitation, "changelist"), {"customer_used": "yes"}).context["cl"]
    assert used_customers.result_count == m.InvitationUse.objects.filter(invitation__side="customer").count()


def test_the_invitation_token_hash_is_never_shown(site, demo):
    invitation = m.Invitation.objects.order_by("pk").first()
    for page_url in (url(m.Invitation, "changelist"), url(m.Invitation, "change", invitation.pk),
                     url(m.InvitationUse, "changelist")):
        html = site.get(page_url).content.decode()
        assert invitation.token_hash not in html and "token_hash" not in html.lower()
    assert site.get(url(m.Invitation, "changelist"), {"q": invitation.token_hash}).context["cl"].result_count == 0


def test_adding_a_customer_invitation_issues_a_token_shown_once_and_stores_only_its_hash(site, demo):
    wave = demo.waves.get(slug="demo-2026-h2")
    data = {"wave": wave.pk, "side": "customer", "email": "new@client.example", "name": "", "language": "ja",
            "segments": "{}"}
    page = site.post(url(m.Invitation, "add"), data, follow=True)
    assert page.status_code == 200
    message = next(str(msg) for msg in page.context["messages"] if "/r/" in str(msg))
    token = message.rsplit("/r/", 1)[1].strip("/")
    invitation = services.invitation_by_token(token=token)
    assert (invitation.email, invitation.side) == ("new@client.example", "customer")
    assert invitation.token_hash == hash_token(token)


def test_adding_a_staff_invitation_never_shows_its_link_and_its_address_stays_as_created(site, demo):
    # P1: a staff link is only ever emailed to the invitation's address (tests/security/test_disclosure_invitations.py).
    wave = demo.waves.get(slug="demo-2026-h2")
    data = {"wave": wave.pk, "side": "staff", "email": "new@mirror-trading.example", "name": "", "language": "ja",
            "segments": '{"department": "Sales"}', "_continue": "1"}
    page = site.post(url(m.Invitation, "add"), data, follow=True)
    assert page.status_code == 200
    messages = [str(msg) for msg in page.context["messages"]]
    assert any("never shown" in msg for msg in messages) and not any("/r/" in msg for msg in messages)
    assert "/r/" not in page.content.decode()
    invitation = m.Invitation.objects.get(wave=wave, email="new@mirror-trading.example")
    assert (invitation.side, invitation.segments, len(invitation.token_hash)) == ("staff", {"department": "Sales"}, 64)
    # Its address cannot be changed afterwards (a customer's can).
    assert 'name="email"' not in site.get(url(m.Invitation, "change", invitation.pk)).content.decode()
    site.post(url(m.Invitation, "change", invitation.pk), {"email": "me@example.com", "name": "", "language": "ja",
                                                          "segments": '{"department": "Sales"}'})
    invitation.refresh_from_db()
    assert invitation.email == "new@mirror-trading.example"
    customer = m.Invitation.objects.filter(wave=wave, side="customer").first()
    assert 'name="email"' in site.get(url(m.Invitation, "change", customer.pk)).content.decode()


def test_an_invitation_with_a_bad_segment_shows_the_reason_and_creates_nothing(site, demo):
    wave = demo.waves.get(slug="demo-2026-h2")
    before = m.Invitation.objects.count()
    data = {"wave": wave.pk, "side": "staff", "email": "x@example.com", "language": "ja",
            "segments": '{"department": "Legal"}'}
    page = site.post(url(m.Invitation, "add"), data)
    assert page.status_code == 200
    assert "is not one of" in page.content.decode()
    assert m.Invitation.objects.count() == before


def test_non_staff_users_cannot_use_the_admin(demo):
    client = Client()
    client.force_login(m.Membership.objects.get(user__username="demo-analyst").user)
    page = client.get(url(m.SurveyResponse, "changelist"))
    assert page.status_code == 302 and "/admin/login/" in page["Location"]
