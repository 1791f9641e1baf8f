"""Instrument items through the API (issue 13, item 7): no silent replacement by PATCH, explicit
replacement by PUT, and the nested item endpoints (list, add, edit, retire) with the freezing rule."""

from __future__ import annotations

import pytest

from surveys import errors, services
from surveys import models as m
from tests.surveys.api.conftest import instrument_payload

LIKERT = {"key": "clear", "dimension": "speed", "staff_text_en": "We explain clearly.",
          "staff_text_ja": "明確に説明している。", "customer_text_en": "{company} explains clearly.",
          "customer_text_ja": "{company}は明確に説明してくれる。"}


def _keys(instrument: m.Instrument) -> list[str]:
    return sorted(instrument.items.values_list("key", flat=True))


def _items_url(instrument: m.Instrument, item: m.ItemPair | None = None, suffix: str = "") -> str:
    base = f"/api/v1/instruments/{instrument.pk}/items/"
    return f"{base}{item.pk}/{suffix}" if item is not None else base


# --------------------------------------------------------------------------- no silent replacement


@pytest.mark.parametrize("with_dimensions", [False, True])
def test_a_one_item_patch_is_refused_and_every_item_stays(world, owner_client, with_dimensions):
    before = _keys(world.editable)
    payload = instrument_payload(world.org.pk)
    body = {"items": payload["items"][:1]}
    if with_dimensions:
        body["dimensions"] = payload["dimensions"]  # a valid pair: before the fix, it replaced everything
    response = owner_client.patch(f"/api/v1/instruments/{world.editable.pk}/", body, format="json")
    assert response.status_code == 400, response.data
    message = " ".join(response.data["items"])
    assert "/items/" in message and "replace_items" in message
    assert _keys(world.editable) == before


def test_a_patch_of_the_texts_alone_still_works(world, owner_client):
    response = owner_client.patch(f"/api/v1/instruments/{world.editable.pk}/", {"description_en": "New words"},
                                  format="json")
    assert (response.status_code, response.data["description_en"]) == (200, "New words")
    assert sorted(i["key"] for i in response.data["items"]) == ["easy", "fast", "nps"]


def test_put_replaces_items_only_with_the_explicit_flag(world, owner_client):
    payload = {k: v for k, v in instrument_payload(world.org.pk).items() if k not in ("organization", "key")}
    url = f"/api/v1/instruments/{world.editable.pk}/"
    for flag in (None, False, "yes"):
        body = payload if flag is None else {**payload, "replace_items": flag}
        refused = owner_client.put(url, body, format="json")
        assert refused.status_code == 400 and "replace_items" in refused.data, (flag, refused.data)
        assert _keys(world.editable) == ["easy", "fast", "nps"]
    replaced = owner_client.put(url, {**payload, "replace_items": True}, format="json")
    assert replaced.status_code == 200, replaced.data
    assert [i["key"] for i in replaced.data["items"]] == ["shared", "nps"]


# --------------------------------------------------------------------------- the item endpoints


def test_items_are_listed_and_read_by_every_role_with_their_id(world, executive_client):
    listed = executive_client.get(_items_url(world.editable))
    assert listed.status_code == 200, listed.data
    assert sorted(i["key"] for i in listed.data) == ["easy", "fast", "nps"]
    first = next(i for i in listed.data if i["key"] == "fast")
    assert first["retired_at"] is None and first["is_retired"] is False
    one = executive_client.get(f"{_items_url(world.editable)}{first['id']}/")
    assert (one.status_code, one.data["key"]) == (200, "fast")


def test_an_added_item_is_visible_in_the_instrument(world, owner_client):
    created = owner_client.post(_items_url(world.editable), LIKERT, format="json")
    assert created.status_code == 201, created.data
    assert (created.data["key"], created.data["dimension"], created.data["topbox_levels"]) == ("clear", "speed", [4, 5])
    detail = owner_client.get(f"/api/v1/instruments/{world.editable.pk}/").data
    assert sorted(i["key"] for i in detail["items"]) == ["clear", "easy", "fast", "nps"]
    assert detail["items"] == owner_client.get(_items_url(world.editable)).data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "fast"}, "key"),
        ({"dimension": "nowhere"}, "dimension"),
        ({"staff_text_en": ""}, "staff_text_en"),
        ({"scale_points": 6}, "scale_points"),
        ({"kind": "nps"}, "staff_text_en"),
        ({"kind": "stars"}, "kind"),
        ({"key": "not a slug"}, "key"),
        ({"customer_text_en": None}, "customer_text_en"),
    ],
)
def test_a_bad_new_item_is_a_400_naming_the_field(world, owner_client, changes, field):
    response = owner_client.post(_items_url(world.editable), {**LIKERT, **changes}, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data, response.data
    assert _keys(world.editable) == ["easy", "fast", "nps"]


def test_only_one_active_headline(world, owner_client):
    first = owner_client.post(_items_url(world.editable), {**LIKERT, "is_headline": True}, format="json")
    assert first.status_code == 201, first.data
    second = owner_client.post(_items_url(world.editable), {**LIKERT, "key": "other", "is_headline": True},
                               format="json")
    assert second.status_code == 400 and "is_headline" in second.data


def test_an_item_is_edited_field_by_field(world, owner_client):
    item = world.editable.items.get(key="fast")
    changed = owner_client.patch(_items_url(world.editable, item), {"customer_text_en": "Fast, {company}?"},
                                 format="json")
    assert changed.status_code == 200, changed.data
    item.refresh_from_db()
    assert (item.customer_text_en, item.key, item.dimension.key) == ("Fast, {company}?", "fast", "speed")
    seven = owner_client.patch(_items_url(world.editable, item), {"scale_points": 7}, format="json")
    assert (seven.status_code, seven.data["scale_max"], seven.data["topbox_levels"]) == (200, 7, [6, 7])
    detail = owner_client.get(f"/api/v1/instruments/{world.editable.pk}/").data
    assert next(i for i in detail["items"] if i["key"] == "fast")["customer_text_en"] == "Fast, {company}?"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "easy"}, "key"),
        ({"kind": "nps"}, "staff_text_en"),
        ({"dimension": "nowhere"}, "dimension"),
        ({"topbox_levels": [9]}, "topbox_levels"),
        ({"scale_points": "many"}, "scale_points"),
        ({"retired_at": "2020-01-01T00:00:00Z"}, "retired_at"),
    ],
)
def test_a_bad_edit_is_a_400_naming_the_field_and_changes_nothing(world, owner_client, body, field):
    item = world.editable.items.get(key="fast")
    response = owner_client.patch(_items_url(world.editable, item), body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data, response.data
    item.refresh_from_db()
    assert (item.key, item.kind, item.scale_points, item.retired_at) == ("fast", "likert", 5, None)


@pytest.mark.parametrize("body", [[], "text", [{"key": "x"}]])
def test_a_body_that_is_not_an_object_is_a_400(world, owner_client, body):
    item = world.editable.items.get(key="fast")
    assert owner_client.post(_items_url(world.editable), body, format="json").status_code == 400
    assert owner_client.patch(_items_url(world.editable, item), body, format="json").status_code == 400


def test_a_retired_item_stays_but_is_not_asked_in_new_waves(world, owner_client):
    item = world.editable.items.get(key="easy")
    retired = owner_client.post(_items_url(world.editable, item, "retire/"))
    assert retired.status_code == 200, retired.data
    assert retired.data["is_retired"] is True and retired.data["retired_at"]
    again = owner_client.post(_items_url(world.editable, item, "retire/"))
    assert (again.status_code, again.data["retired_at"]) == (200, retired.data["retired_at"])
    detail = owner_client.get(f"/api/v1/instruments/{world.editable.pk}/").data
    assert {i["key"]: i["is_retired"] for i in detail["items"]} == {"fast": False, "easy": True, "nps": False}

    wave = services.wave_create(organization=world.org, instrument=world.editable, name="Next", slug="next")
    assert [i.key for i in services.survey_items(wave=wave, side=m.Side.STAFF)] == ["fast"]
    assert [i.key for i in services.survey_items(wave=wave, side=m.Side.CUSTOMER)] == ["fast", "nps"]
    # The retired question is not asked, so an answer to it is refused like any unknown item.
    services.wave_open(wave=wave)
    with pytest.raises(errors.ValidationFailed) as refused:
        services.response_submit(wave=wave, side=m.Side.CUSTOMER, answers={"fast": 3, "easy": 2, "nps": 8},
                                 language="en", channel=m.Channel.ANONYMOUS)
    assert refused.value.field_errors == {"answers.easy": ["Unknown item."]}
    public = owner_client.get(f"/api/v1/public/waves/{wave.slug}/customer/")
    assert public.status_code == 200, public.data
    assert [i["key"] for i in public.data["items"]] == ["fast", "nps"]


def test_the_last_asked_item_cannot_be_retired(world, owner_client):
    for key in ("fast", "easy"):
        assert owner_client.post(_items_url(world.editable, world.editable.items.get(key=key), "retire/")
                                 ).status_code == 200
    last = owner_client.post(_items_url(world.editable, world.editable.items.get(key="nps"), "retire/"))
    assert (last.status_code, last.data["code"]) == (409, "last_item")
    assert world.editable.items.filter(retired_at__isnull=True).count() == 1


# --------------------------------------------------------------------------- the freezing rule


def test_items_of_a_frozen_version_are_refused_like_the_version(world, owner_client):
    frozen = world.instrument
    item = frozen.items.get(key="easy")
    answered = m.Answer.objects.filter(item=item).count()
    for response in (
        owner_client.post(_items_url(frozen, item, "retire/")),
        owner_client.patch(_items_url(frozen, item), {"customer_text_en": "Changed"}, format="json"),
        owner_client.post(_items_url(frozen), LIKERT, format="json"),
    ):
        assert (response.status_code, response.data["code"]) == (409, "instrument_frozen"), response.data
    item.refresh_from_db()
    assert item.retired_at is None and item.customer_text_en != "Changed"
    assert _keys(frozen) == ["easy", "fast", "nps"]
    assert m.Answer.objects.filter(item=item).count() == answered > 0

    # The way forward is a new version: retiring there leaves the frozen version and its answers alone.
    version = owner_client.post(f"/api/v1/instruments/{frozen.pk}/versions/").data
    new = m.Instrument.objects.get(pk=version["id"])
    retired = owner_client.post(_items_url(new, new.items.get(key="easy"), "retire/"))
    assert retired.status_code == 200, retired.data
    assert frozen.items.get(key="easy").retired_at is None
    assert [i.key for i in services.survey_items(wave=world.open, side=m.Side.STAFF)] == ["fast", "easy"]


def test_a_retired_item_stays_retired_in_the_next_version(world, owner_client):
    item = world.editable.items.get(key="easy")
    assert owner_client.post(_items_url(world.editable, item, "retire/")).status_code == 200
    services.wave_create(organization=world.org, instrument=world.editable, name="Uses it", slug="uses-it")
    version = owner_client.post(f"/api/v1/instruments/{world.editable.pk}/versions/").data
    assert {i["key"]: i["is_retired"] for i in version["items"]} == {"fast": False, "easy": True, "nps": False}


def test_builtin_items_are_read_only(world, owner_client):
    item = world.builtin.items.get(key="fast")
    assert owner_client.get(_items_url(world.builtin)).status_code == 200
    for response in (
        owner_client.post(_items_url(world.builtin, item, "retire/")),
        owner_client.patch(_items_url(world.builtin, item), {"customer_text_en": "Mine"}, format="json"),
        owner_client.post(_items_url(world.builtin), LIKERT, format="json"),
    ):
        assert (response.status_code, response.data["code"]) == (409, "instrument_frozen")


# --------------------------------------------------------------------------- roles and tenants


def test_only_admins_write_items(world, analyst_client, executive_client):
    item = world.editable.items.get(key="fast")
    for client in (analyst_client, executive_client):
        assert client.post(_items_url(world.editable), LIKERT, format="json").status_code == 403
        assert client.patch(_items_url(world.editable, item), {"construct": "x"}, format="json").status_code == 403
        assert client.post(_items_url(world.editable, item, "retire/")).status_code == 403
    item.refresh_from_db()
    assert (item.construct, item.retired_at) == ("", None)
    assert _keys(world.editable) == ["easy", "fast", "nps"]


def test_another_organisations_items_are_404(world, outsider_client, owner_client, anon_client):
    item = world.editable.items.get(key="fast")
    for response in (
        outsider_client.get(_items_url(world.editable)),
        outsider_client.get(_items_url(world.editable, item)),
        outsider_client.post(_items_url(world.editable), LIKERT, format="json"),
        outsider_client.patch(_items_url(world.editable, item), {"construct": "x"}, format="json"),
        outsider_client.post(_items_url(world.editable, item, "retire/")),
    ):
        assert response.status_code == 404, response.data
        assert "fast" not in response.content.decode()
    item.refresh_from_db()
    assert (item.construct, item.retired_at) == ("", None)
    theirs = m.Instrument.objects.get(key="theirs")
    assert owner_client.get(_items_url(theirs)).status_code == 404
    assert owner_client.get(_items_url(theirs, theirs.items.first())).status_code == 404
    assert anon_client.get(_items_url(world.editable)).status_code == 401


def test_an_item_is_found_only_under_its_own_instrument(world, owner_client):
    other = world.instrument.items.get(key="fast")
    assert owner_client.get(_items_url(world.editable, other)).status_code == 404
    assert owner_client.post(_items_url(world.editable, other, "retire/")).status_code == 404
    for bad in ("abc", "\u00b2", "9" * 30, "-1"):
        assert owner_client.get(f"/api/v1/instruments/{bad}/items/").status_code == 404
        assert owner_client.get(f"/api/v1/instruments/{world.editable.pk}/items/{bad}/").status_code == 404


def test_an_item_read_by_get_can_be_sent_back_whole_but_unknown_fields_are_named(world, owner_client):
    url = _items_url(world.editable, world.editable.items.get(key="fast"))
    whole = owner_client.get(url).data
    echoed = owner_client.patch(url, {**whole, "construct": "Speed"}, format="json")
    assert (echoed.status_code, echoed.data["construct"]) == (200, "Speed"), echoed.data
    for body, field in (({"colour": "red"}, "colour"), ({"scale_max": 9}, "scale_max"), ({"id": 1}, "id"),
                        ({"is_retired": True}, "is_retired")):
        refused = owner_client.patch(url, body, format="json")
        assert refused.status_code == 400 and field in refused.data, (body, refused.data)
