"""What respondents read (issue 15, item 4): the survey's own title and introduction (never the
questionnaire's internal name or description), segment choices in the form's language, and only the
segment questions a respondent can answer on an anonymous link."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from surveys import models as m
from tests.surveys.test_public_support import STAFF_ANSWERS, form_post, open_wave

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")

INTERNAL = "Matched items asked of staff and customers; the headline question comes first."



@pytest.fixture
def wave(org) -> m.Wave:
    wave = open_wave(org)
    m.Instrument.objects.filter(pk=wave.instrument_id).update(description_en=INTERNAL, description_ja=INTERNAL)
    wave.refresh_from_db()
    return wave


def html(response) -> str:
    return response.content.decode()


def h1(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page, re.S).group(1).strip()


# --------------------------------------------------------------------------- title and introduction


def test_the_customer_form_shows_a_default_title_and_introduction_never_the_instrument_texts(client, wave):
    english = html(client.get(f"/s/{wave.slug}/customer/?lang=en"))
    assert h1(english) == "Mirror Corp — customer survey"
    assert "Mirror Corp would like to know how you experience working with them." in english
    assert INTERNAL not in english and "Customer focus check" not in english
    japanese = html(client.get(f"/s/{wave.slug}/customer/?lang=ja"))
    assert h1(japanese) == "ミラー株式会社 お客様アンケート"
    assert INTERNAL not in japanese and "顧客志向チェック" not in japanese


def test_the_forms_show_the_waves_own_title_and_introduction_per_side_and_language(client, wave):
    m.Wave.objects.filter(pk=wave.pk).update(
        customer_title_en="How are we doing, {company}?", customer_intro_en="Five minutes.\n\nThank you!",
        customer_title_ja="{company}へのご意見", staff_title_en="Our customers and us")
    english = html(client.get(f"/s/{wave.slug}/customer/?lang=en"))
    assert h1(english) == "How are we doing, Mirror Corp?"
    assert "<p>Five minutes.</p>" in english and "<p>Thank you!</p>" in english
    assert h1(html(client.get(f"/s/{wave.slug}/customer/?lang=ja"))) == "ミラー株式会社へのご意見"
    assert h1(html(client.get(f"/s/{wave.slug}/staff/?lang=en"))) == "Our customers and us"
    # The staff intro was left empty: the default one.
    assert "This internal survey asks how well we serve our customers." in html(
        client.get(f"/s/{wave.slug}/staff/?lang=en"))


def test_the_json_form_carries_the_same_title_and_introduction(wave):
    m.Wave.objects.filter(pk=wave.pk).update(customer_intro_ja="{company}からのお願い")
    body = APIClient().get(f"/api/v1/public/waves/{wave.slug}/customer/?lang=ja").json()
    assert body["wave"]["title"] == "ミラー株式会社 お客様アンケート"
    assert body["wave"]["description"] == "ミラー株式会社からのお願い"
    english = APIClient().get(f"/api/v1/public/waves/{wave.slug}/customer/?lang=en").json()["wave"]
    assert english["title"] == "Mirror Corp — customer survey"
    assert english["description"].startswith("Mirror Corp would like to know")
    assert INTERNAL not in str(english)


# --------------------------------------------------------------------------- choice labels


def test_the_japanese_staff_form_labels_choices_in_japanese_and_stores_the_key(client, wave):
    page = html(client.get(f"/s/{wave.slug}/staff/?lang=ja"))
    assert '<option value="&lt;1y">1年未満</option>' in page
    assert '<option value="5y+">5年以上</option>' in page
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    posted = client.post(f"/s/{wave.slug}/staff/", form_post("staff", language="ja", s_tenure="<1y")
                         | {"ticket": ticket})
    assert posted.status_code == 302
    assert m.SurveyResponse.objects.get().segments == {"tenure": "<1y"}
    english = html(Client().get(f"/s/{wave.slug}/staff/?lang=en"))  # another browser: this one has answered
    assert '<option value="&lt;1y">Less than 1 year</option>' in english


def test_the_json_form_lists_the_choices_with_their_labels(wave):
    body = APIClient().get(f"/api/v1/public/waves/{wave.slug}/staff/?lang=ja").json()
    tenure = next(f for f in body["segment_fields"] if f["key"] == "tenure")
    assert tenure["choices"] == ["<1y", "1-3y", "3-5y", "5y+"]
    assert tenure["options"][0] == {"value": "<1y", "label": "1年未満"}


# --------------------------------------------------------------------------- who is asked what


def test_the_customer_anonymous_link_does_not_ask_for_account_attributes_by_default(client, wave):
    page = html(client.get(f"/s/{wave.slug}/customer/?lang=en"))
    assert 'name="s_region"' in page
    for key in ("tier", "touch_model", "plan"):
        assert f'name="s_{key}"' not in page
    body = APIClient().get(f"/api/v1/public/waves/{wave.slug}/customer/?lang=en").json()
    assert [f["key"] for f in body["segment_fields"]] == ["region"]
    # A value nobody was asked for is not stored (HTML) or is refused naming the field (JSON).
    assert client.post(f"/s/{wave.slug}/customer/", form_post("customer", s_tier="Gold")).status_code == 302
    assert m.SurveyResponse.objects.get().segments == {}
    refused = APIClient().post(f"/api/v1/public/waves/{wave.slug}/customer/",
                               {"answers": {"superior": 2, "everyone": 3, "quick": "na", "nps": 7, "ces": 5,
                                            "csat": 4, "renewal": 5}, "segments": {"tier": "Gold"}}, format="json")
    assert refused.status_code == 400 and "segments.tier" in refused.json()


def test_the_staff_anonymous_link_asks_department_role_and_tenure(client, wave):
    page = html(client.get(f"/s/{wave.slug}/staff/?lang=en"))
    for key in ("department", "role", "tenure"):
        assert f'name="s_{key}"' in page


def test_an_admin_can_ask_an_account_attribute_on_the_anonymous_link(client, wave, owner_client):
    fields = [dict(f) for f in wave.customer_segment_fields]
    for field in fields:
        if field["key"] == "touch_model":
            field["ask_anonymous"] = True
    response = owner_client.patch(f"/api/v1/waves/{wave.pk}/", {"customer_segment_fields": fields}, format="json")
    assert response.status_code == 200, response.data
    flags = {f["key"]: f["ask_anonymous"] for f in response.data["customer_segment_fields"]}
    assert flags == {"tier": False, "touch_model": True, "plan": False, "region": True}
    page = html(client.get(f"/s/{wave.slug}/customer/?lang=ja"))
    assert 'name="s_touch_model"' in page and 'name="s_tier"' not in page
    assert '<option value="high">ハイタッチ</option>' in page


# --------------------------------------------------------------------------- the staff API


def test_the_api_edits_the_respondent_texts_and_returns_them(wave, owner_client):
    url = f"/api/v1/waves/{wave.pk}/"
    body = {"customer_title_ja": "{company} お客様の声", "customer_intro_en": "Thanks for your time.",
            "staff_intro_ja": "社内向けです。"}
    response = owner_client.patch(url, body, format="json")
    assert response.status_code == 200, response.data
    assert {k: response.data[k] for k in body} == body
    assert response.data["staff_title_en"] == ""
    wave.refresh_from_db()
    assert (wave.customer_title_ja, wave.staff_intro_ja) == ("{company} お客様の声", "社内向けです。")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer_title_en": "x" * 201}, "customer_title_en"),
        ({"staff_title_ja": "一行目\n二行目"}, "staff_title_ja"),
        ({"customer_intro_ja": "x" * 2001}, "customer_intro_ja"),
        ({"staff_intro_en": ["not", "text"]}, "staff_intro_en"),
        ({"staff_segment_fields": [{"key": "tenure", "label_en": "T", "label_ja": "T", "choices": ["<1y"],
                                    "choice_labels": {"2y": {"ja": "2年"}}}]}, "staff_segment_fields"),
        ({"staff_segment_fields": [{"key": "tenure", "label_en": "T", "label_ja": "T", "choices": ["<1y"],
                                    "choice_labels": {"<1y": {"fr": "moins d'un an"}}}]}, "staff_segment_fields"),
        ({"staff_segment_fields": [{"key": "tenure", "label_en": "T", "label_ja": "T", "choices": ["<1y"],
                                    "choice_labels": {"<1y": "1年未満"}}]}, "staff_segment_fields"),
        ({"customer_segment_fields": [{"key": "tier", "label_en": "T", "label_ja": "T",
                                       "ask_anonymous": "perhaps"}]}, "customer_segment_fields"),
    ],
)
def test_bad_respondent_settings_are_a_400_naming_the_field(wave, owner_client, body, field):
    response = owner_client.patch(f"/api/v1/waves/{wave.pk}/", body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert response.data["code"] != "error"


def test_a_staff_anonymous_json_submission_keeps_the_choice_key(wave):
    client = APIClient()
    url = f"/api/v1/public/waves/{wave.slug}/staff/"
    ticket = client.get(url).json()["ticket"]
    response = client.post(url, {"answers": {k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()},
                                 "segments": {"tenure": "1年未満"}, "ticket": ticket}, format="json")
    assert response.status_code == 400 and "segments.tenure" in response.json()


@pytest.mark.parametrize("side", ["staff", "customer"])
def test_the_defaults_and_the_demo_label_every_choice_in_japanese_and_pass_the_apis_checks(side):
    from surveys import demo
    from surveys.api.serializers import SegmentFieldSerializer

    defaults = m.default_staff_segment_fields() if side == "staff" else m.default_customer_segment_fields()
    shown = demo.STAFF_SEGMENT_FIELDS if side == "staff" else demo.CUSTOMER_SEGMENT_FIELDS
    for fields in (defaults, shown):
        assert SegmentFieldSerializer(data=fields, many=True).is_valid(), fields
        for field in fields:
            assert set(field["choice_labels"]) == set(field["choices"]), field["key"]
            assert all(labels["ja"] and labels["en"] for labels in field["choice_labels"].values())
    assert {f["key"]: f["ask_anonymous"] for f in defaults} == (
        {"department": True, "role": True, "tenure": True} if side == "staff"
        else {"tier": False, "touch_model": False, "plan": False, "region": True})
