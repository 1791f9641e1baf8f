"""Customer accounts: CRUD by admins, filters, upsert import."""

from __future__ import annotations

import io

from surveys import models as m
from tests import factories as f


def test_filters_by_status_and_tier(world, analyst_client):
    f.CustomerAccountFactory(organization=world.org, external_id="GONE", tier="Silver", status="churned")
    f.CustomerAccountFactory(organization=world.org, external_id="KEPT", tier="Silver", status="renewed")
    url = "/api/v1/accounts/"
    assert [a["external_id"] for a in analyst_client.get(f"{url}?status=churned").data["results"]] == ["GONE"]
    assert [a["external_id"] for a in analyst_client.get(f"{url}?tier=Silver").data["results"]] == ["GONE", "KEPT"]
    assert analyst_client.get(f"{url}?status=sleeping").status_code == 400


def test_create_update_and_the_unique_external_id(world, owner_client):
    created = owner_client.post("/api/v1/accounts/", {"organization": world.org.pk, "external_id": "NEW",
                                                      "arr": "1200.50", "touch_model": "tech"}, format="json")
    assert created.status_code == 201, created.data
    assert (created.data["arr"], created.data["status"]) == (1200.5, "active")
    clash = owner_client.patch(f"/api/v1/accounts/{created.data['id']}/", {"external_id": "ACME"}, format="json")
    assert clash.status_code == 400 and "external_id" in clash.data
    moved = owner_client.patch(f"/api/v1/accounts/{created.data['id']}/",
                               {"status": "churned", "churned_on": "2025-03-31",
                                "organization": world.other_wave.organization_id}, format="json")
    assert moved.status_code == 200
    account = m.CustomerAccount.objects.get(pk=created.data["id"])
    assert (account.status, str(account.churned_on), account.organization_id) == ("churned", "2025-03-31",
                                                                                  world.org.pk)


def test_import_upserts_by_external_id(world, owner_client):
    upload = io.BytesIO(b"external_id,name,status,arr\nACME,Acme KK,renewed,5000\nNEW-2,New,active,\n")
    upload.name = "accounts.csv"
    response = owner_client.post("/api/v1/accounts/import/", {"organization": world.org.pk, "file": upload},
                                 format="multipart")
    assert response.status_code == 201, response.data
    assert response.data["created"] == 2
    world.account.refresh_from_db()
    assert (world.account.name, world.account.status) == ("Acme KK", "renewed")
    assert m.CustomerAccount.objects.filter(organization=world.org, external_id="NEW-2").exists()
