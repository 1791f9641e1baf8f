"""One error shape everywhere, and bad input that is a 4xx, never a 500."""

from __future__ import annotations

import pytest


def test_401_403_404_405_409_share_the_detail_and_code_shape(world, anon_client, executive_client, owner_client):
    cases = [
        (anon_client.get("/api/v1/waves/"), 401, "not_authenticated"),
        (executive_client.post("/api/v1/waves/", {}, format="json"), 403, "permission_denied"),
        (owner_client.get("/api/v1/waves/999999/"), 404, "not_found"),
        (owner_client.delete(f"/api/v1/waves/{world.draft.pk}/"), 405, "method_not_allowed"),
        (owner_client.post(f"/api/v1/waves/{world.draft.pk}/close/"), 409, "invalid_transition"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert set(response.data) == {"detail", "code"}, response.data
        assert response.data["code"] == code and response.data["detail"]


def test_400_carries_per_field_messages_next_to_detail_and_code(world, owner_client):
    response = owner_client.post("/api/v1/accounts/", {"organization": world.org.pk, "arr": -5, "status": "gone"},
                                 format="json")
    assert response.status_code == 400
    assert response.data["detail"] == "Some values are not valid."
    assert set(response.data) == {"detail", "code", "external_id", "arr", "status"}


@pytest.mark.parametrize("ref", ["abc", "1.5", "-1", "99999999999999999999999", "0x10", "%20"])
def test_odd_ids_are_a_plain_404(world, owner_client, ref):
    for url in (f"/api/v1/waves/{ref}/", f"/api/v1/waves/{ref}/invitations/", f"/api/v1/accounts/{ref}/",
                f"/api/v1/instruments/{ref}/clone/"):
        method = owner_client.post if url.endswith("clone/") else owner_client.get
        response = method(url)
        assert response.status_code == 404, (url, response.status_code)


def test_malformed_json_wrong_content_type_and_huge_bodies_are_4xx(world, owner_client, settings):
    url = "/api/v1/waves/"
    broken = owner_client.generic("POST", url, '{"name": ', content_type="application/json")
    assert (broken.status_code, broken.data["code"]) == (400, "parse_error")
    xml = owner_client.generic("POST", url, "<wave/>", content_type="application/xml")
    assert (xml.status_code, xml.data["code"]) == (415, "unsupported_media_type")
    as_list = owner_client.patch(f"/api/v1/instruments/{world.editable.pk}/", [1, 2], format="json")
    assert as_list.status_code == 400
    too_many = owner_client.post(f"/api/v1/waves/{world.open.pk}/invitations/",
                                 {"side": "staff", "contacts": [{"name": "x"}] * 1001}, format="json")
    assert too_many.status_code == 400 and "contacts" in too_many.data
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    huge = owner_client.generic("POST", url, '{"name": "' + "x" * 20_000 + '"}', content_type="application/json")
    assert (huge.status_code, huge.data["code"]) == (413, "payload_too_large")


def test_a_token_is_issued_for_good_credentials_only(world, anon_client, owner):
    bad = anon_client.post("/api/v1/auth/token/", {"username": "owner", "password": "wrong"}, format="json")
    assert bad.status_code == 400 and bad.data["code"] == "authorization"
    good = anon_client.post("/api/v1/auth/token/", {"username": "owner", "password": "correct-horse-battery"},
                            format="json")
    assert good.status_code == 200
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {good.data['token']}")
    me = anon_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.data["username"] == "owner"
    assert [(mm["organization"]["slug"], mm["role"]) for mm in me.data["memberships"]] == [("mirror", "admin")]
