"""The respondent's HTML forms: wording per side and language, the submission rules, and the abuse guards."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client

from surveys import models as m
from surveys import services
from surveys.public import throttling
from surveys.public.forms import SurveyForm, posted_answers, posted_segments
from tests.surveys.test_public_support import form_post, open_wave

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")



@pytest.fixture
def wave(org) -> m.Wave:
    return open_wave(org, anonymity_threshold=7)


@pytest.fixture
def customer_token(wave) -> str:
    return services.invitation_create(wave=wave, side=m.Side.CUSTOMER, language="ja",
                                      segments={"tier": "Gold"}).token


@pytest.fixture
def staff_token(wave) -> str:
    return services.invitation_create(wave=wave, side=m.Side.STAFF, language="en",
                                      segments={"tenure": "1-3y"}).token


def html(response) -> str:
    return response.content.decode()


def staff_ticket(client: Client, wave: m.Wave) -> dict[str, str]:
    """The ticket field of the staff anonymous form, as a GET by this browser hands it out."""
    page = client.get(f"/s/{wave.slug}/staff/")
    assert page.status_code == 200, page.status_code
    return {"ticket": re.search(r'name="ticket" value="([^"]+)"', html(page)).group(1)}


def checked_values(page: str) -> dict[str, str]:
    """name → value of every checked radio in the page."""
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", page):
        if " checked" in tag:
            found[re.search(r'name="([^"]+)"', tag).group(1)] = re.search(r'value="([^"]+)"', tag).group(1)
    return found


class FormStructure(HTMLParser):
    """Collects what accessibility depends on: fieldsets and legends, inputs and their labels."""

    def __init__(self):
        super().__init__()
        self.fieldsets: list[dict] = []
        self.label_for: set[str] = set()
        self.inputs: list[dict] = []
        self.html_lang = None
        self._in_legend = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "fieldset":
            self.fieldsets.append({"attrs": attrs, "legend": "", "radios": 0})
        elif tag == "legend":
            self._in_legend = True
        elif tag == "label" and "for" in attrs:
            self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.inputs.append(attrs | {"tag": tag})
            if attrs.get("type") == "radio" and self.fieldsets:
                self.fieldsets[-1]["radios"] += 1

    def handle_endtag(self, tag):
        if tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._in_legend and self.fieldsets:
            self.fieldsets[-1]["legend"] += data


def structure(page: str) -> FormStructure:
    parser = FormStructure()
    parser.feed(page)
    return parser


# --------------------------------------------------------------------------- what the respondent sees


def test_it_shows_a_customer_the_customer_wording_in_japanese_with_the_company_name(client, customer_token):
    response = client.get(f"/r/{customer_token}/")
    page = html(response)
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in page
    assert "ミラー株式会社は私に優れた体験を提供している。" in page
    assert "ミラー株式会社を同僚に勧める可能性はどのくらいありますか？" in page
    assert "私たちは顧客に優れた体験を提供している。" not in page  # the staff wording
    assert "{company}" not in page
    for label in ("全くそう思わない", "とてもそう思う", "全く勧めない", "非常に勧めたい", "わからない・該当しない",
                  "回答を送信する"):
        assert label in page
    assert "匿名性の守り方" not in page  # the anonymity statement is for staff
    assert page.count('value="na"') == 2  # only the two items that allow N/A


def test_every_question_is_a_fieldset_with_a_legend_and_every_input_has_a_label(client, customer_token):
    parsed = structure(html(client.get(f"/r/{customer_token}/")))
    assert parsed.html_lang == "ja"
    # 3 agreement items + NPS, CES, CSAT, renewal
    assert len(parsed.fieldsets) == 7
    assert all(fs["legend"].strip() for fs in parsed.fieldsets)
    assert [fs["radios"] for fs in parsed.fieldsets] == [5, 6, 8, 11, 7, 5, 5]
    visible = [i for i in parsed.inputs if i.get("name") != "website"]
    assert visible and all(i["id"] in parsed.label_for for i in visible)


def test_it_shows_staff_the_staff_wording_and_how_their_anonymity_is_protected(client, staff_token):
    response = client.get(f"/r/{staff_token}/")
    page = html(response)
    assert response.status_code == 200 and '<html lang="en">' in page
    assert "We deliver a superior experience to our customers." in page
    assert "How your anonymity is protected" in page
    assert "groups of at least 7 people" in page
    assert "never linked to your invitation, your name or your email address" in page
    assert "published only in batches of at least 7 new answers" in page
    assert "recommend" not in page  # outcome items are customers' only
    assert len(structure(page).fieldsets) == 3


def test_the_anonymity_statement_is_in_japanese_too(client, staff_token):
    page = html(client.get(f"/r/{staff_token}/?lang=ja"))
    assert "7人以上のグループ単位でのみ表示" in page
    assert "招待や、あなたの氏名・メールアドレスと結び付けられることはありません" in page
    assert "新しい回答が7件以上集まるごとにまとめて公開" in page


def test_the_headline_item_is_marked_as_the_key_question(client, staff_token):
    page = html(client.get(f"/r/{staff_token}/"))
    headline = re.search(r'<fieldset class="question question--headline"[^>]*id="q-superior"', page)
    assert headline is not None
    assert page.count("question--headline") == 1


def test_the_language_switch_re_renders_in_the_other_language_keeping_answers_and_saving_nothing(
    client, customer_token
):
    data = {"a_superior": "2", "a_everyone": "na", "a_nps": "9", "comment": "途中までのコメント",
            "language": "ja", "switch_lang": "en"}
    response = client.post(f"/r/{customer_token}/", data)
    page = html(response)
    assert response.status_code == 200
    assert "Mirror Corp delivers a superior experience to me." in page
    assert '<html lang="en">' in page
    assert checked_values(page) == {"a_superior": "2", "a_everyone": "na", "a_nps": "9"}
    assert "途中までのコメント</textarea>" in page
    assert 'name="language" value="en"' in page
    assert "Please check your answers" not in page
    assert m.SurveyResponse.objects.count() == 0


def test_a_wave_in_one_language_offers_no_switch(client, org):
    wave = open_wave(org, slug="english-only", languages=["en"], default_language="en")
    token = services.invitation_create(wave=wave, side="customer", language="ja").token
    page = html(client.get(f"/r/{token}/"))
    assert '<html lang="en">' in page
    assert 'name="switch_lang"' not in page


# --------------------------------------------------------------------------- submitting


def test_a_complete_customer_form_is_stored_once_and_redirects_to_a_thank_you_page(client, wave, customer_token):
    response = client.post(f"/r/{customer_token}/", form_post("customer", language="ja", comment=" とても良い "))
    assert response.status_code == 302
    assert response["Location"] == f"/r/{customer_token}/thanks/?lang=ja"
    stored = m.SurveyResponse.objects.get()
    assert (stored.side, stored.language, stored.channel, stored.comment) == ("customer", "ja", "invitation",
                                                                              "とても良い")
    assert stored.invitation is not None and stored.segments == {"tier": "Gold"}
    values = dict(stored.answers.values_list("item__key", "value"))
    assert values == {"superior": 2, "everyone": 3, "quick": None, "nps": 7, "ces": 5, "csat": 4, "renewal": 5}
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and "回答を受け付けました" in html(thanks)


def test_a_staff_response_through_the_form_cannot_be_linked_to_the_invitation(client, wave, staff_token):
    response = client.post(f"/r/{staff_token}/", form_post("staff"))
    assert response.status_code == 302
    stored = m.SurveyResponse.objects.get()
    assert stored.invitation_id is None and stored.customer_account_id is None
    assert stored.submitted_at is None and stored.submitted_on is not None
    assert stored.segments == {"tenure": "1-3y"}
    assert m.InvitationUse.objects.filter(invitation__wave=wave).count() == 1


def test_a_used_invitation_shows_the_already_answered_page_and_stores_nothing_more(client, customer_token):
    assert client.post(f"/r/{customer_token}/", form_post("customer")).status_code == 302
    again = client.get(f"/r/{customer_token}/")
    assert again.status_code == 409
    assert "既に回答済みです" in html(again)
    resubmit = client.post(f"/r/{customer_token}/", form_post("customer", csat="1"))
    assert resubmit.status_code == 409
    assert m.SurveyResponse.objects.count() == 1
    assert m.SurveyResponse.objects.get().answers.get(item__key="csat").value == 4


def test_an_unknown_token_is_a_plain_404_that_reveals_nothing(client, customer_token, wave):
    pages = [client.get("/r/not-a-real-token/"), client.post("/r/xxx/", {}),
             client.get(f"/r/{customer_token[:-1]}/"), client.get("/s/no-such-wave/customer/"),
             client.get(f"/s/{wave.slug}/partners/")]
    assert [p.status_code for p in pages] == [404] * 5
    bodies = {html(p) for p in pages}
    assert len(bodies) == 1  # the same page whatever was guessed
    body = bodies.pop()
    assert "Mirror" not in body and "ミラー" not in body and wave.slug not in body


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_wave_that_is_not_open_shows_a_410_page_and_accepts_nothing(client, org, status):
    wave = services.wave_create(organization=org, instrument=open_wave(org, slug="other").instrument,
                                name="Later", slug="later")
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    if status == "closed":
        services.wave_close(wave=services.wave_open(wave=wave))
    expected = "This survey is not open yet" if status == "draft" else "This survey has closed"
    for response in (client.get(f"/r/{token}/"), client.post(f"/r/{token}/", form_post("customer")),
                     client.get("/s/later/staff/?lang=en")):
        assert response.status_code == 410
        assert expected in html(response)
    assert m.SurveyResponse.objects.count() == 0


def test_bad_and_missing_answers_re_show_the_form_with_every_other_answer_kept(client, customer_token):
    data = form_post("customer", language="en", comment="Keep me", nps="11")
    del data["a_csat"]
    response = client.post(f"/r/{customer_token}/", data)
    page = html(response)
    assert response.status_code == 400
    assert m.SurveyResponse.objects.count() == 0
    summary = page[page.index('id="error-summary"'):page.index("</ul>", page.index('id="error-summary"'))]
    assert re.findall(r'href="#([^"]+)"', summary) == ["q-nps-0", "q-csat-1"]
    assert "Please choose one of the options." in page and "Please choose an answer." in page
    assert 'id="q-nps" aria-describedby="q-nps-error"' in page
    assert 'id="q-csat" aria-describedby="q-csat-error"' in page
    assert 'id="q-superior" aria-describedby' not in page
    # Everything valid is still there; the out-of-range value is not offered back.
    assert checked_values(page) == {"a_superior": "2", "a_everyone": "3", "a_quick": "na", "a_ces": "5",
                                    "a_renewal": "5"}
    assert "Keep me</textarea>" in page


def test_a_comment_over_5000_characters_is_refused_naming_the_comment(client, customer_token):
    response = client.post(f"/r/{customer_token}/", form_post("customer", language="en", comment="あ" * 5001))
    page = html(response)
    assert response.status_code == 400
    assert 'href="#comment"' in page
    assert "Please keep your comment to 5000 characters or fewer." in page
    assert 'aria-describedby="comment-hint comment-error"' in page
    assert len(checked_values(page)) == 7
    assert m.SurveyResponse.objects.count() == 0


def test_an_oversized_body_is_refused_with_413_before_it_is_read(client, customer_token):
    data = form_post("customer", comment="x" * (throttling.MAX_BODY_BYTES + 10))
    response = client.post(f"/r/{customer_token}/", data)
    assert response.status_code == 413
    assert "too large" in html(response)
    assert m.SurveyResponse.objects.count() == 0


def test_admin_written_text_and_comments_are_escaped(client, org):
    wave = open_wave(org, slug="xss")
    m.ItemPair.objects.filter(instrument=wave.instrument, key="superior").update(
        customer_text_en="<script>alert('item')</script> {company}")
    wave.organization.display_name_en = "<img src=x onerror=alert(1)>"
    wave.organization.save()
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    data = form_post("customer", comment="</textarea><script>alert('comment')</script>", nps="99")
    page = html(client.post(f"/r/{token}/", data))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;item&#x27;)&lt;/script&gt;" in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&#x27;comment&#x27;)&lt;/script&gt;</textarea>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_html_form_is_protected_against_cross_site_requests(customer_token):
    browser = Client(enforce_csrf_checks=True)
    forged = browser.post(f"/r/{customer_token}/", form_post("customer"))
    assert forged.status_code == 403
    assert m.SurveyResponse.objects.count() == 0
    page = html(browser.get(f"/r/{customer_token}/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    genuine = browser.post(f"/r/{customer_token}/", form_post("customer") | {"csrfmiddlewaretoken": token})
    assert genuine.status_code == 302
    assert m.SurveyResponse.objects.count() == 1


# --------------------------------------------------------------------------- anonymous links


def ask_touch_model(wave: m.Wave) -> None:
    """The admin's choice: the customer anonymous link asks the touch model (by default it does not)."""
    wave.customer_segment_fields = [{**f, "ask_anonymous": f["ask_anonymous"] or f["key"] == "touch_model"}
                                    for f in wave.customer_segment_fields]
    wave.save(update_fields=["customer_segment_fields"])


def test_an_anonymous_link_asks_the_wave_segment_fields_first(client, wave):
    ask_touch_model(wave)
    page = html(client.get(f"/s/{wave.slug}/customer/?lang=en"))
    assert page.index("About you") < page.index('<fieldset')
    assert '<select id="seg-touch_model" name="s_touch_model">' in page
    for choice, label in (("high", "High touch"), ("low", "Low touch"), ("tech", "Tech touch")):
        assert f'<option value="{choice}">{label}</option>' in page
    assert '<input type="text" id="seg-region" name="s_region"' in page
    assert '<label for="seg-region" class="field__label">Region' in page


def test_an_anonymous_staff_link_explains_anonymity_for_a_shared_link(client, wave):
    page = html(client.get(f"/s/{wave.slug}/staff/"))  # the wave's default language: Japanese
    assert '<html lang="ja">' in page
    assert "勤続年数" in page and "このリンクは全員に共通です" in page
    assert "招待や、あなたの氏名" not in page
    assert "新しい回答が7件以上集まるごとにまとめて公開" in page


def test_an_anonymous_submission_stores_the_segments_given_and_nothing_identifying(client, wave):
    data = form_post("staff", s_department="Support", s_tenure="5y+", s_role="") | staff_ticket(client, wave)
    response = client.post(f"/s/{wave.slug}/staff/", data)
    assert response.status_code == 302 and response["Location"].startswith(f"/s/{wave.slug}/staff/thanks/")
    stored = m.SurveyResponse.objects.get()
    assert (stored.channel, stored.segments) == ("anonymous", {"department": "Support", "tenure": "5y+"})
    assert stored.submitted_at is None and stored.invitation_id is None


def test_a_segment_value_outside_its_choices_is_an_error_on_that_field(client, wave):
    ask_touch_model(wave)
    response = client.post(f"/s/{wave.slug}/customer/", form_post("customer", s_touch_model="medium"))
    page = html(response)
    assert response.status_code == 400
    assert 'href="#seg-touch_model"' in page
    assert 'aria-invalid="true" aria-describedby="seg-touch_model-error"' in page
    assert m.SurveyResponse.objects.count() == 0


def test_the_same_browser_cannot_answer_an_anonymous_link_twice(client, wave):
    assert client.post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    assert client.get(f"/s/{wave.slug}/customer/").status_code == 409
    second = client.post(f"/s/{wave.slug}/customer/", form_post("customer"))
    assert second.status_code == 409 and "already answered" in html(second)
    # The guard is per wave and side: the staff link is still open to this browser.
    assert client.get(f"/s/{wave.slug}/staff/").status_code == 200
    assert m.SurveyResponse.objects.count() == 1


def test_a_forged_duplicate_guard_cookie_is_ignored(client, wave):
    client.cookies[throttling.done_cookie_name(wave, "customer")] = "forged"
    assert client.get(f"/s/{wave.slug}/customer/").status_code == 200


def test_many_browsers_behind_one_office_address_can_each_answer_once(wave):
    # 40 is under the staff link's per-address daily cap (KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY, 50 by default).
    for n in range(40):
        browser = Client(REMOTE_ADDR="203.0.113.7")
        ticket = staff_ticket(browser, wave)
        # Some of them make a mistake first; that must use up neither the office's allowance nor the ticket.
        if n % 4 == 0:
            assert browser.post(f"/s/{wave.slug}/staff/", form_post("staff", superior="") | ticket).status_code == 400
        assert browser.post(f"/s/{wave.slug}/staff/", form_post("staff") | ticket).status_code == 302
    assert m.SurveyResponse.objects.filter(side="staff").count() == 40


def test_the_honeypot_quietly_discards_what_bots_post(client, wave):
    response = client.post(f"/s/{wave.slug}/customer/", form_post("customer") | {"website": "http://spam.example"})
    assert response.status_code == 302 and "/thanks/" in response["Location"]
    assert m.SurveyResponse.objects.count() == 0


def test_an_address_that_keeps_guessing_gets_429_for_unknown_links_only(wave, monkeypatch):
    # Its valid links keep working (an office shares the address): tests/surveys/test_public_lockout.py.
    monkeypatch.setattr(throttling, "FAILURE_LIMIT", 3)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    guesser = Client(REMOTE_ADDR="198.51.100.9")
    assert [guesser.post(f"/r/guess{n}/", {}).status_code for n in range(3)] == [404, 404, 404]
    blocked = guesser.get("/r/guess4/")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert guesser.post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    other = Client(REMOTE_ADDR="198.51.100.10")
    assert other.get("/r/guess4/").status_code == 404
    assert other.post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    assert m.SurveyResponse.objects.count() == 2


def test_a_flood_of_posts_from_one_address_is_capped(wave, monkeypatch):
    monkeypatch.setattr(throttling, "FLOOD_LIMIT", 5)
    # One window for the whole test: the counters are per clock-aligned window, and a run crossing
    # a window boundary between its requests would start a fresh count.
    monkeypatch.setattr(throttling, "FLOOD_WINDOW", 10**6)
    monkeypatch.setattr(throttling, "FAILURE_WINDOW", 10**6)
    codes = [Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code for _ in range(7)]
    assert codes == [302] * 5 + [429] * 2
    assert m.SurveyResponse.objects.count() == 5


def test_an_anonymous_link_switched_off_by_an_admin_accepts_nothing(client, wave):
    wave.anonymous_links.filter(side="customer").update(is_active=False)
    assert client.get(f"/s/{wave.slug}/customer/").status_code == 410
    assert client.post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 410
    assert m.SurveyResponse.objects.count() == 0


# ---------------------------------------------------------------- posts through a link this process read lately


def test_a_wave_closed_by_another_process_just_after_a_post_accepts_nothing_more(wave):
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    # Another process closes it: no signal reaches this one, whose copy of the link says "open".
    m.Wave.objects.filter(pk=wave.pk).update(status=m.WaveStatus.CLOSED)
    refused = Client().post(f"/s/{wave.slug}/customer/", form_post("customer"))
    assert refused.status_code == 410 and "This survey has closed" in html(refused)
    assert m.SurveyResponse.objects.count() == 1


def test_a_link_switched_off_by_another_process_just_after_a_post_accepts_nothing_more(wave):
    first, second = staff_ticket(Client(), wave), staff_ticket(Client(), wave)
    assert Client().post(f"/s/{wave.slug}/staff/", form_post("staff") | first).status_code == 302
    wave.anonymous_links.filter(side="staff").update(is_active=False)
    refused = Client().post(f"/s/{wave.slug}/staff/", form_post("staff") | second)
    assert refused.status_code == 410
    assert m.SurveyResponse.objects.count() == 1


def test_a_link_whose_wave_was_deleted_by_another_process_is_a_404(wave, org):
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    m.SurveyResponse.objects.all().delete()
    with connection.cursor() as cursor:  # as another process would: no signal here
        cursor.execute("DELETE FROM surveys_anonymouslink WHERE wave_id = %s", [wave.pk])
        cursor.execute("DELETE FROM surveys_wave WHERE id = %s", [wave.pk])
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 404
    assert m.SurveyResponse.objects.count() == 0


def test_a_wave_reopened_after_a_refused_post_takes_the_next_one(wave):
    m.Wave.objects.filter(pk=wave.pk).update(status=m.WaveStatus.CLOSED)
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 410
    m.Wave.objects.filter(pk=wave.pk).update(status=m.WaveStatus.OPEN)
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    assert m.SurveyResponse.objects.count() == 1


def test_a_change_saved_in_this_process_is_seen_by_its_next_post_at_once(wave):
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 302
    services.wave_close(wave=wave)
    assert Client().post(f"/s/{wave.slug}/customer/", form_post("customer")).status_code == 410
    assert m.SurveyResponse.objects.count() == 1


@pytest.mark.parametrize("side", ["staff", "customer"])
def test_what_a_post_submits_is_what_the_full_form_reads(wave, side):
    data = form_post(side, comment="  hi  ", superior=" 4 ", everyone="") | {
        "s_department": "  Support  ", "s_tenure": "x" * 200, "s_role": "   ", "s_unknown": "z"}
    form = SurveyForm(wave=wave, side=side, language="en", data=data, ask_segments=True)
    assert posted_answers(wave, side, data) == form.answers()
    assert posted_segments(wave, side, data) == form.segments()
    assert posted_answers(wave, side, data)["superior"] == "4" and posted_answers(wave, side, data)["everyone"] is None


def test_a_post_stores_every_answer_as_given_and_not_applicable_as_null(client, wave):
    assert client.post(f"/s/{wave.slug}/customer/", form_post("customer", quick="na", nps="0")).status_code == 302
    stored = dict(m.Answer.objects.values_list("item__key", "value"))
    assert stored == {"superior": 2, "everyone": 3, "quick": None, "nps": 0, "ces": 5, "csat": 4, "renewal": 5}
