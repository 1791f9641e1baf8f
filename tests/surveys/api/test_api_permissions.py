"""The permission matrix: every API endpoint × {anonymous, admin, analyst, executive, outsider}.

admin manages its organization; analyst reads everything in it; executive reads
organizations, waves and instruments, and (as every member) the gap and the PDF
reports of its waves; anonymous gets 401; a member of
another organization gets 404 for every object of this one (and 400 "unknown
organization" when naming it in a body), never a hint that it exists.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from surveys.instruments.journey import default_touchpoint_keys
from tests.surveys.api.conftest import World, instrument_payload

ROLES = ["anonymous", "admin", "analyst", "executive", "outsider"]


def _statuses(anonymous: int, admin: int, analyst: int, executive: int, outsider: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, admin, analyst, executive, outsider), strict=True))


def _csv(text: str) -> io.BytesIO:
    buffer = io.BytesIO(text.encode("utf-8"))
    buffer.name = "upload.csv"
    return buffer


# (name, method, url(w), body(w), expected)
Endpoint = tuple[str, str, Callable[[World], str], Callable[[World], dict] | None, dict[str, int]]

ENDPOINTS: list[Endpoint] = [
    ("me", "get", lambda w: "/api/v1/me/", None, _statuses(401, 200, 200, 200, 200)),
    ("organizations-list", "get", lambda w: "/api/v1/organizations/", None, _statuses(401, 200, 200, 200, 200)),
    ("organizations-detail", "get", lambda w: f"/api/v1/organizations/{w.org.pk}/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("touchpoints-list", "get", lambda w: f"/api/v1/organizations/{w.org.pk}/touchpoints/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("touchpoints-create", "post", lambda w: f"/api/v1/organizations/{w.org.pk}/touchpoints/",
     lambda w: {"key": "pilot", "name_ja": "試用", "name_en": "Pilot"}, _statuses(401, 201, 403, 403, 404)),
    ("touchpoints-patch", "patch", lambda w: f"/api/v1/organizations/{w.org.pk}/touchpoints/support/",
     lambda w: {"name_en": "Help desk"}, _statuses(401, 200, 403, 403, 404)),
    ("touchpoints-delete", "delete", lambda w: f"/api/v1/organizations/{w.org.pk}/touchpoints/billing/", None,
     _statuses(401, 204, 403, 403, 404)),
    ("touchpoints-reorder", "post", lambda w: f"/api/v1/organizations/{w.org.pk}/touchpoints/reorder/",
     lambda w: {"keys": list(reversed(default_touchpoint_keys()))}, _statuses(401, 200, 403, 403, 404)),
    ("memberships-list", "get", lambda w: "/api/v1/memberships/", None, _statuses(401, 200, 200, 403, 200)),
    ("memberships-detail", "get", lambda w: f"/api/v1/memberships/{w.analyst_membership.pk}/", None,
     _statuses(401, 200, 200, 403, 404)),
    ("memberships-create", "post", lambda w: "/api/v1/memberships/",
     lambda w: {"organization": w.org.pk, "email": "newcomer@example.com", "role": "analyst"},
     _statuses(401, 202, 403, 403, 400)),
    ("memberships-role", "patch", lambda w: f"/api/v1/memberships/{w.analyst_membership.pk}/",
     lambda w: {"role": "executive"}, _statuses(401, 200, 403, 403, 404)),
    ("memberships-delete", "delete", lambda w: f"/api/v1/memberships/{w.analyst_membership.pk}/", None,
     _statuses(401, 204, 403, 403, 404)),
    ("membership-invitations-list", "get", lambda w: "/api/v1/membership-invitations/", None,
     _statuses(401, 200, 403, 403, 200)),
    ("membership-invitations-revoke", "delete", lambda w: f"/api/v1/membership-invitations/{w.member_invitation.pk}/",
     None, _statuses(401, 204, 403, 403, 404)),
    ("membership-invitations-resend", "post",
     lambda w: f"/api/v1/membership-invitations/{w.member_invitation.pk}/resend/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("instruments-list", "get", lambda w: "/api/v1/instruments/", None, _statuses(401, 200, 200, 200, 200)),
    ("instruments-detail", "get", lambda w: f"/api/v1/instruments/{w.instrument.pk}/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("instruments-builtin", "get", lambda w: f"/api/v1/instruments/{w.builtin.pk}/", None,
     _statuses(401, 200, 200, 200, 200)),
    ("instruments-create", "post", lambda w: "/api/v1/instruments/", lambda w: instrument_payload(w.org.pk),
     _statuses(401, 201, 403, 403, 400)),
    ("instruments-patch", "patch", lambda w: f"/api/v1/instruments/{w.editable.pk}/",
     lambda w: {"name_en": "Renamed"}, _statuses(401, 200, 403, 403, 404)),
    ("instruments-put", "put", lambda w: f"/api/v1/instruments/{w.editable.pk}/",
     lambda w: {**{k: v for k, v in instrument_payload(w.org.pk).items() if k not in ("organization", "key")},
                "replace_items": True},
     _statuses(401, 200, 403, 403, 404)),
    ("instruments-clone", "post", lambda w: f"/api/v1/instruments/{w.instrument.pk}/clone/",
     lambda w: {"organization": w.org.pk, "key": "copy"}, _statuses(401, 201, 403, 403, 404)),
    ("instruments-clone-builtin", "post", lambda w: f"/api/v1/instruments/{w.builtin.pk}/clone/",
     lambda w: {"organization": w.org.pk}, _statuses(401, 201, 403, 403, 400)),
    ("instruments-version", "post", lambda w: f"/api/v1/instruments/{w.instrument.pk}/versions/", None,
     _statuses(401, 201, 403, 403, 404)),
    ("instruments-modules", "post", lambda w: f"/api/v1/instruments/{w.editable.pk}/modules/",
     lambda w: {"module": "experience_modules"}, _statuses(401, 200, 403, 403, 404)),
    ("instrument-items-list", "get", lambda w: f"/api/v1/instruments/{w.editable.pk}/items/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("instrument-items-detail", "get",
     lambda w: f"/api/v1/instruments/{w.editable.pk}/items/{w.editable.items.get(key='fast').pk}/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("instrument-items-create", "post", lambda w: f"/api/v1/instruments/{w.editable.pk}/items/",
     lambda w: {**instrument_payload(w.org.pk)["items"][0], "dimension": "speed"},
     _statuses(401, 201, 403, 403, 404)),
    ("instrument-items-patch", "patch",
     lambda w: f"/api/v1/instruments/{w.editable.pk}/items/{w.editable.items.get(key='fast').pk}/",
     lambda w: {"construct": "Speed"}, _statuses(401, 200, 403, 403, 404)),
    ("instrument-items-retire", "post",
     lambda w: f"/api/v1/instruments/{w.editable.pk}/items/{w.editable.items.get(key='fast').pk}/retire/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("waves-list", "get", lambda w: "/api/v1/waves/", None, _statuses(401, 200, 200, 200, 200)),
    ("waves-create", "post", lambda w: "/api/v1/waves/",
     lambda w: {"organization": w.org.pk, "instrument": w.instrument.pk, "name": "Winter", "slug": "winter"},
     _statuses(401, 201, 403, 403, 400)),
    ("waves-detail", "get", lambda w: f"/api/v1/waves/{w.draft.pk}/", None, _statuses(401, 200, 200, 200, 404)),
    ("waves-patch", "patch", lambda w: f"/api/v1/waves/{w.draft.pk}/", lambda w: {"name": "Spring 2025"},
     _statuses(401, 200, 403, 403, 404)),
    ("waves-open", "post", lambda w: f"/api/v1/waves/{w.draft.pk}/open/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("waves-close", "post", lambda w: f"/api/v1/waves/{w.open.pk}/close/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("waves-reopen", "post", lambda w: f"/api/v1/waves/{w.closed.pk}/reopen/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("invitations-list", "get", lambda w: f"/api/v1/waves/{w.open.pk}/invitations/", None,
     _statuses(401, 200, 200, 403, 404)),
    ("invitations-create", "post", lambda w: f"/api/v1/waves/{w.open.pk}/invitations/",
     lambda w: {"side": "customer", "contacts": [{"email": "buyer@example.com", "account": "ACME"}]},
     _statuses(401, 201, 403, 403, 404)),
    ("invitations-import", "multipart", lambda w: f"/api/v1/waves/{w.open.pk}/invitations/import/",
     lambda w: {"side": "staff", "file": _csv("email,name,department\ntaro@example.com,Taro,Sales\n")},
     _statuses(401, 201, 403, 403, 404)),
    ("invitations-remind", "post", lambda w: f"/api/v1/waves/{w.open.pk}/invitations/remind/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("invitations-resend", "post", lambda w: f"/api/v1/invitations/{w.invitation.pk}/resend/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("invitations-reissue", "post", lambda w: f"/api/v1/invitations/{w.invitation.pk}/reissue/", None,
     _statuses(401, 200, 403, 403, 404)),
    ("responses-list", "get", lambda w: f"/api/v1/waves/{w.open.pk}/responses/", None,
     _statuses(401, 200, 200, 403, 404)),
    ("responses-export", "get", lambda w: f"/api/v1/waves/{w.open.pk}/responses/export/?format=csv", None,
     _statuses(401, 200, 200, 403, 404)),
    ("responses-comments", "get", lambda w: f"/api/v1/waves/{w.open.pk}/comments/?side=staff", None,
     _statuses(401, 200, 200, 403, 404)),
    ("accounts-list", "get", lambda w: "/api/v1/accounts/", None, _statuses(401, 200, 200, 403, 200)),
    ("accounts-create", "post", lambda w: "/api/v1/accounts/",
     lambda w: {"organization": w.org.pk, "external_id": "NEW-1", "status": "active"},
     _statuses(401, 201, 403, 403, 400)),
    ("accounts-detail", "get", lambda w: f"/api/v1/accounts/{w.account.pk}/", None,
     _statuses(401, 200, 200, 403, 404)),
    ("accounts-patch", "patch", lambda w: f"/api/v1/accounts/{w.account.pk}/", lambda w: {"tier": "Platinum"},
     _statuses(401, 200, 403, 403, 404)),
    ("accounts-put", "put", lambda w: f"/api/v1/accounts/{w.account.pk}/",
     lambda w: {"organization": w.org.pk, "external_id": "ACME", "name": "Acme", "status": "renewed"},
     _statuses(401, 200, 403, 403, 404)),
    ("accounts-delete", "delete", lambda w: f"/api/v1/accounts/{w.account.pk}/", None,
     _statuses(401, 204, 403, 403, 404)),
    ("accounts-import", "multipart", lambda w: "/api/v1/accounts/import/",
     lambda w: {"organization": w.org.pk, "file": _csv("external_id,name,status\nIMP-1,Imported,active\n")},
     _statuses(401, 201, 403, 403, 400)),
    ("audit-events-list", "get", lambda w: "/api/v1/audit-events/", None, _statuses(401, 200, 403, 403, 200)),
    ("import-jobs-detail", "get", lambda w: f"/api/v1/import-jobs/{w.import_job.pk}/", None,
     _statuses(401, 200, 403, 403, 404)),
    # The gap and the reports: one API layer with the staff API (backend/api/), every member reads them.
    ("gap", "get", lambda w: f"/api/v1/waves/{w.open.pk}/gap/", None, _statuses(401, 200, 200, 200, 404)),
    ("gap-segments", "get",
     lambda w: f"/api/v1/waves/{w.open.pk}/gap/segments/?side=customer&field=tier&first=Gold&second=Silver", None,
     _statuses(401, 200, 200, 200, 404)),
    ("wave-reports-list", "get", lambda w: f"/api/v1/waves/{w.open.pk}/reports/", None,
     _statuses(401, 200, 200, 200, 404)),
    # An unknown language: a member reaches the validation (400), never a 403; an outsider never the wave.
    ("wave-reports-create", "post", lambda w: f"/api/v1/waves/{w.open.pk}/reports/", lambda w: {"language": "xx"},
     _statuses(401, 400, 400, 400, 404)),
    ("reports-list", "get", lambda w: "/api/v1/reports/", None, _statuses(401, 200, 200, 200, 200)),
    ("reports-detail", "get", lambda w: f"/api/v1/reports/{w.report_job.pk}/", None,
     _statuses(401, 200, 200, 200, 404)),
    ("reports-pdf", "get", lambda w: f"/api/v1/reports/{w.report_job.pk}/pdf/", None,
     _statuses(401, 409, 409, 409, 404)),
]


def _call(client, method: str, url: str, body: dict | None):
    if method == "multipart":
        return client.post(url, body, format="multipart")
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


@pytest.fixture
def newcomer(db):
    from tests import factories as f

    return f.UserFactory(username="newcomer")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_each_role_gets_exactly_the_expected_status(endpoint: Endpoint, role: str, world, clients, newcomer):
    name, method, url, body, expected = endpoint
    response = _call(clients[role], method, url(world), body(world) if body else None)
    assert response.status_code == expected[role], (name, role, getattr(response, "data", None))
    if response.status_code >= 400:
        assert set(response.data) >= {"detail", "code"}


def test_every_route_of_the_api_is_in_the_matrix():
    """A new route without a row above fails here, so the matrix cannot silently fall behind."""
    from reports.api import gap_urls
    from reports.api import urls as report_urls
    from surveys.api import urls as staff_urls

    names = [p.name for module in (staff_urls, report_urls, gap_urls) for p in module.urlpatterns]
    assert len(names) == len(set(names))
    assert set(names) == {
        "api-auth-token", "api-me", "organization-list", "organization-detail", "organization-touchpoint-list",
        "organization-touchpoint-detail", "organization-touchpoint-reorder", "membership-list",
        "membership-detail", "membership-invitation-list", "membership-invitation-detail",
        "membership-invitation-resend",
        "instrument-list", "instrument-detail", "instrument-clone", "instrument-versions", "instrument-modules",
        "instrument-item-list", "instrument-item-detail", "instrument-item-retire",
        "wave-list", "wave-detail", "wave-open", "wave-close", "wave-reopen", "wave-invitation-list",
        "wave-invitation-import-file", "wave-invitation-remind", "wave-response-list", "wave-response-export",
        "wave-comment-list",
        "invitation-resend", "invitation-reissue", "account-list", "account-detail", "account-import-file",
        "audit-event-list", "import-job-detail",
        "wave-gap", "wave-gap-segments", "wave-report-list", "report-job-list", "report-job-detail",
        "report-job-pdf",
    }
    # api-auth-token is anonymous by nature and has its own tests (test_api_errors.py).
    assert len({e[0] for e in ENDPOINTS}) == len(ENDPOINTS) == 63


def test_lists_never_show_another_organizations_objects(world, outsider_client, owner_client):
    for url in ("/api/v1/organizations/", "/api/v1/waves/", "/api/v1/accounts/", "/api/v1/memberships/",
                "/api/v1/instruments/"):
        theirs = {row["id"] for row in outsider_client.get(url).data["results"]}
        ours = {row["id"] for row in owner_client.get(url).data["results"]}
        assert ours and theirs
        if url != "/api/v1/instruments/":
            assert not ours & theirs, url
    mine = {(i["key"], i["organization"]) for i in owner_client.get("/api/v1/instruments/").data["results"]}
    theirs = {(i["key"], i["organization"]) for i in outsider_client.get("/api/v1/instruments/").data["results"]}
    assert {("test-core", None), ("mirror", world.org.pk), ("draft-instrument", world.org.pk)} <= mine
    assert ("test-core", None) in theirs and not {key for key, org in theirs if org == world.org.pk}
    waves = outsider_client.get("/api/v1/waves/").data["results"]
    assert [w["slug"] for w in waves] == ["theirs"]


def test_an_executive_sees_waves_but_not_their_invitations_or_accounts(world, executive_client):
    assert executive_client.get(f"/api/v1/waves/{world.open.pk}/").status_code == 200
    assert executive_client.get(f"/api/v1/waves/{world.open.pk}/invitations/").status_code == 403
    assert executive_client.get("/api/v1/accounts/").status_code == 403


def test_anonymous_requests_are_told_how_to_authenticate(world, anon_client):
    response = anon_client.get("/api/v1/waves/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.data["code"] == "not_authenticated"
