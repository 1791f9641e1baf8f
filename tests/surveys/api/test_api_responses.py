"""Responses, their comments and their exports: only published responses, staff rows as k-anonymous microdata.

The world's open wave starts with one staff answer through the anonymous link (department Sales, self-declared),
one customer answer (tier Gold) and one unanswered staff invitation (Sales). Staff k is 5 (the default).
"""

from __future__ import annotations

import io
import itertools

import pytest

from surveys import models as m
from surveys import services

_numbers = itertools.count()

# What a staff row never carries (P6): nothing that orders it, dates it or links it to a person or an invitation.
STAFF_NULL_FIELDS = ("id", "language", "channel", "submitted_on", "submitted_at", "account", "weight")
WITHHELD = "(withheld)"


def responses_url(wave: m.Wave, query: str = "") -> str:
    return f"/api/v1/waves/{wave.pk}/responses/{query}"


def comments_url(wave: m.Wave, query: str = "") -> str:
    return f"/api/v1/waves/{wave.pk}/comments/{query}"


def invited_staff(wave: m.Wave, n: int, *, segments: dict, answers: dict | None = None,
                  comments: list[str] | None = None) -> list[m.SurveyResponse]:
    """n staff answers through invitations carrying ``segments`` (verified values: they count toward k)."""
    out = []
    for i in range(n):
        number = next(_numbers)
        invitation = services.invitation_create(wave=wave, side=m.Side.STAFF, email=f"staff{number}@example.com",
                                                name=f"Staff {number}", segments=segments).invitation
        out.append(services.response_submit(wave=wave, side=m.Side.STAFF, answers=answers or {"fast": 3, "easy": 3},
                                            language="ja", channel=m.Channel.INVITATION, invitation=invitation,
                                            comment=comments[i] if comments else ""))
    return out


def anonymous_staff(wave: m.Wave, n: int, *, segments: dict) -> None:
    """n staff answers through the anonymous link: their segments are self-declared and never count toward k."""
    for _ in range(n):
        services.response_submit(wave=wave, side=m.Side.STAFF, answers={"fast": 3, "easy": 3}, language="ja",
                                 segments=segments, channel=m.Channel.ANONYMOUS)


def publish_every_customer(wave: m.Wave) -> None:
    """Customers are not promised anonymity: on a test wave every customer response may be published at once."""
    wave.customer_threshold = 1
    wave.save()


def staff_rows(client, wave: m.Wave) -> list[dict]:
    response = client.get(responses_url(wave, "?side=staff"))
    assert response.status_code == 200
    assert response.data["count"] == len(response.data["results"])
    return response.data["results"]


def last_audit(action: str) -> m.AuditEvent:
    return m.AuditEvent.objects.filter(action=action).order_by("-created_at", "-id").first()


# --------------------------------------------------------------------------- the responses list


def test_staff_rows_carry_no_invitation_no_account_and_no_time(world, analyst_client):
    services.response_submit(wave=world.open, side="staff", answers={"fast": 5, "easy": 4}, language="ja",
                             invitation=world.invitation, channel=m.Channel.INVITATION, comment="Hanako was here")
    invited_staff(world.open, 4, segments={"department": "Sales"}, answers={"fast": 2, "easy": 1})
    response = analyst_client.get(responses_url(world.open, "?side=staff"))
    rows = response.data["results"]
    assert len(rows) == 6  # five through invitations and the anonymous one: one release
    for row in rows:
        assert row["side"] == "staff"
        assert {row[name] for name in STAFF_NULL_FIELDS} == {None}
        assert row["comment"] == ""
        assert "invitation" not in row
        # The block's released value (five verified Sales); the anonymous answer rides along in it.
        assert (row["segments"], row["withheld_items"]) == ({"department": "Sales"}, [])
    assert sorted((row["answers"] for row in rows), key=repr) == sorted(
        [{"fast": 4, "easy": None}, {"fast": 5, "easy": 4}] + [{"fast": 2, "easy": 1}] * 4, key=repr)
    content = response.content.decode()
    for linkable in ("hanako", "Hanako was here", world.invitation.token_hash):
        assert linkable not in content
    assert '"invitation"' not in content
    event = last_audit(m.AuditEvent.Action.RESPONSE_LIST)
    assert (event.username, event.wave_id, event.details) == ("analyst", world.open.pk, {"side": "staff"})


def test_customer_rows_carry_weight_segments_and_answers(world, analyst_client):
    publish_every_customer(world.open)
    invitation = services.invitation_create(wave=world.open, side=m.Side.CUSTOMER, email="buyer@example.com",
                                            customer_account=world.account).invitation
    invited = services.response_submit(wave=world.open, side=m.Side.CUSTOMER, answers={"fast": 5, "easy": 5, "nps": 10},
                                       language="en", channel=m.Channel.INVITATION, invitation=invitation,
                                       comment="Great support")
    rows = analyst_client.get(responses_url(world.open, "?side=customer")).data["results"]
    assert len(rows) == 2
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)  # by random id, never by time
    by_channel = {row["channel"]: row for row in rows}
    row = by_channel["anonymous"]
    assert (row["weight"], row["segments"], row["language"], row["account"]) == (2.0, {"tier": "Gold"}, "ja", None)
    assert row["answers"] == {"fast": 2, "easy": 3, "nps": 9}
    assert row["submitted_at"] is not None and row["submitted_on"] is not None and row["withheld_items"] == []
    row = by_channel["invitation"]
    assert (row["id"], row["account"], row["comment"], row["language"]) == (str(invited.pk), "ACME", "Great support",
                                                                          "en")
    assert row["answers"] == {"fast": 5, "easy": 5, "nps": 10}
    event = last_audit(m.AuditEvent.Action.RESPONSE_LIST)
    assert (event.username, event.details) == ("analyst", {"side": "customer"})


def test_rows_come_by_side_then_random_id(world, owner_client):
    publish_every_customer(world.open)
    services.response_submit(wave=world.open, side=m.Side.CUSTOMER, answers={"fast": 1, "easy": 1, "nps": 1},
                             language="en")
    invited_staff(world.open, 4, segments={"department": "Sales"})
    rows = owner_client.get(responses_url(world.open)).data["results"]
    assert [row["side"] for row in rows] == ["customer"] * 2 + ["staff"] * 5
    customer_ids = [row["id"] for row in rows[:2]]
    assert customer_ids == sorted(customer_ids)
    assert last_audit(m.AuditEvent.Action.RESPONSE_LIST).details == {"side": "all"}


def test_pending_responses_are_not_listed(world, analyst_client):
    # Staff: the anonymous answer and three more wait for a fifth; then five are published together.
    invited_staff(world.open, 3, segments={"department": "Sales"})
    assert staff_rows(analyst_client, world.open) == []
    invited_staff(world.open, 1, segments={"department": "Sales"})
    assert len(staff_rows(analyst_client, world.open)) == 5
    # Four more wait for the next release: the list, its count and the export stay as they were.
    invited_staff(world.open, 4, segments={"department": "Sales"})
    assert len(staff_rows(analyst_client, world.open)) == 5
    export = analyst_client.get(responses_url(world.open, "export/?format=csv&side=staff"))
    assert len(b"".join(export.streaming_content).decode("utf-8").strip().splitlines()) == 1 + 5
    invited_staff(world.open, 1, segments={"department": "Sales"})
    assert len(staff_rows(analyst_client, world.open)) == 10
    # Customers have their own k (5 by default): the world's one customer answer is not shown yet.
    response = analyst_client.get(responses_url(world.open, "?side=customer"))
    assert (response.data["count"], response.data["results"]) == (0, [])
    assert m.SurveyResponse.objects.filter(wave=world.open, side=m.Side.CUSTOMER, release__isnull=True).count() == 1


def test_no_staff_rows_when_fewer_than_k_staff_responses_are_published(world, analyst_client, owner_client):
    publish_every_customer(world.open)
    invited_staff(world.open, 4, segments={"department": "Sales"}, comments=["a", "b", "c", "d"])
    assert len(staff_rows(analyst_client, world.open)) == 5  # published: five at k = 5
    # The wave's staff threshold goes up: its five published responses are fewer than k now.
    world.open.anonymity_threshold = 6
    world.open.save()
    assert [row["side"] for row in analyst_client.get(responses_url(world.open)).data["results"]] == ["customer"]
    assert staff_rows(analyst_client, world.open) == []
    export = owner_client.get(responses_url(world.open, "export/?format=csv"))
    lines = b"".join(export.streaming_content).decode("utf-8").strip().splitlines()
    assert len(lines) == 2 and lines[1].split(",")[1] == "customer"
    assert analyst_client.get(comments_url(world.open, "?side=staff")).data == []


def test_an_item_with_fewer_than_k_answers_in_a_block_is_withheld_there(world, analyst_client):
    # Sales: the anonymous answer (easy N/A), the world's invitation and four more; only three answer "easy".
    services.response_submit(wave=world.open, side="staff", answers={"fast": 5, "easy": "na"}, language="ja",
                             invitation=world.invitation, channel=m.Channel.INVITATION)
    invited_staff(world.open, 1, segments={"department": "Sales"}, answers={"fast": 2, "easy": "na"})
    invited_staff(world.open, 3, segments={"department": "Sales"}, answers={"fast": 1, "easy": 4})
    # Support: five answer both items.
    invited_staff(world.open, 5, segments={"department": "Support"}, answers={"fast": 3, "easy": 2})
    rows = staff_rows(analyst_client, world.open)
    sales = [row for row in rows if row["segments"] == {"department": "Sales"}]
    support = [row for row in rows if row["segments"] == {"department": "Support"}]
    assert (len(sales), len(support)) == (6, 5)
    for row in sales:
        assert row["withheld_items"] == ["easy"]
        assert set(row["answers"]) == {"fast"}  # not even the N/A of an answer that is withheld
    assert sorted(row["answers"]["fast"] for row in sales) == [1, 1, 1, 2, 4, 5]
    for row in support:
        assert (row["answers"], row["withheld_items"]) == ({"fast": 3, "easy": 2}, [])
    # The export marks the same answers as withheld.
    export = analyst_client.get(responses_url(world.open, "export/?format=csv&side=staff"))
    lines = b"".join(export.streaming_content).decode("utf-8").lstrip("\ufeff").strip().splitlines()
    header = lines[0].split(",")
    easy = sorted(line.split(",")[header.index("easy")] for line in lines[1:])
    assert easy == ["2"] * 5 + ["withheld"] * 6


def test_segment_values_held_by_fewer_than_k_verified_respondents_show_as_withheld(world, analyst_client):
    # Sales: six verified, but no tenure shared by five of them; the anonymous Sales answer rides along.
    invited_staff(world.open, 3, segments={"department": "Sales", "tenure": "1-3y"})
    invited_staff(world.open, 3, segments={"department": "Sales", "tenure": "3-5y"})
    # Support: seven, but only four verified; three self-declared answers never lift a group over k.
    invited_staff(world.open, 4, segments={"department": "Support"})
    anonymous_staff(world.open, 3, segments={"department": "Support"})
    response = analyst_client.get(responses_url(world.open, "?side=staff"))
    segments = sorted(tuple(sorted(row["segments"].items())) for row in response.data["results"])
    assert segments == sorted(
        [(("department", "Sales"), ("tenure", WITHHELD))] * 7
        + [(("department", WITHHELD), ("role", WITHHELD), ("tenure", WITHHELD))] * 7)
    content = response.content.decode()
    for hidden in ("Support", "1-3y", "3-5y"):
        assert hidden not in content


# --------------------------------------------------------------------------- comments


def test_comments_come_per_released_group(world, analyst_client):
    sales = ["Sales A", "Sales B", "Sales C", "", "Sales E"]
    services.response_submit(wave=world.open, side="staff", answers={"fast": 5, "easy": 4}, language="ja",
                             invitation=world.invitation, channel=m.Channel.INVITATION, comment=sales[0])
    invited_staff(world.open, 4, segments={"department": "Sales"}, comments=sales[1:])
    invited_staff(world.open, 5, segments={"department": "Support"}, comments=[f"Support {i}" for i in range(5)])
    # Two from Legal: too few to be a group; they and the smallest group (Support) form one group of withheld values.
    invited_staff(world.open, 2, segments={"department": "Legal"}, comments=["Legal 1", "Legal 2"])
    response = analyst_client.get(comments_url(world.open, "?side=staff"))
    assert response.status_code == 200
    groups = {group["segments"].get("department"): group for group in response.data}
    assert set(groups) == {"Sales", WITHHELD}
    sales_group, rest = groups["Sales"], groups[WITHHELD]
    assert (sales_group["segments"], sales_group["n_responses"]) == ({"department": "Sales"}, 6)
    assert sorted(sales_group["comments"]) == ["Sales A", "Sales B", "Sales C", "Sales E"]  # blank ones left out
    assert (rest["segments"], rest["n_responses"]) == (dict.fromkeys(("department", "role", "tenure"), WITHHELD), 7)
    assert sorted(rest["comments"]) == ["Legal 1", "Legal 2"] + [f"Support {i}" for i in range(5)]
    assert "Legal" not in str([group["segments"] for group in response.data])
    # The side defaults to staff, and every read is audited.
    assert analyst_client.get(comments_url(world.open)).data == response.data
    event = last_audit(m.AuditEvent.Action.COMMENT_LIST)
    assert (event.username, event.wave_id, event.details) == ("analyst", world.open.pk, {"side": "staff"})
    assert m.AuditEvent.objects.filter(action=m.AuditEvent.Action.COMMENT_LIST).count() == 2


def test_no_comments_come_from_a_side_with_nothing_released(world, analyst_client):
    invited_staff(world.open, 3, segments={"department": "Sales"}, comments=["one", "two", "three"])
    assert analyst_client.get(comments_url(world.open, "?side=staff")).data == []  # four staff wait for a fifth
    services.response_submit(wave=world.open, side=m.Side.CUSTOMER, answers={"fast": 1, "easy": 1, "nps": 1},
                             language="en", comment="Call me")
    assert analyst_client.get(comments_url(world.open, "?side=customer")).data == []  # two customers wait
    publish_every_customer(world.open)
    (group,) = analyst_client.get(comments_url(world.open, "?side=customer")).data
    assert (group["comments"], group["n_responses"]) == (["Call me"], 2)
    assert last_audit(m.AuditEvent.Action.COMMENT_LIST).details == {"side": "customer"}


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("admin", 200), ("analyst", 200),
                                              ("executive", 403), ("outsider", 404)])
def test_comments_are_for_admins_and_analysts(world, clients, role, status):
    invited_staff(world.open, 4, segments={"department": "Sales"}, comments=[f"kept-{i}" for i in range(4)])
    response = clients[role].get(comments_url(world.open, "?side=staff"))
    assert response.status_code == status
    audited = m.AuditEvent.objects.filter(action=m.AuditEvent.Action.COMMENT_LIST).exists()
    assert audited == (status == 200)
    if status == 200:
        assert sorted(response.data[0]["comments"]) == [f"kept-{i}" for i in range(4)]
    else:
        assert set(response.data) == {"detail", "code"} and "kept-" not in response.content.decode()


def test_a_bad_side_for_comments_is_a_400_naming_the_field(world, analyst_client):
    response = analyst_client.get(comments_url(world.open, "?side=board"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "side" in response.data
    assert not m.AuditEvent.objects.filter(action=m.AuditEvent.Action.COMMENT_LIST).exists()


# --------------------------------------------------------------------------- exports


def test_csv_export_streams_with_bom_and_a_filename(world, analyst_client):
    publish_every_customer(world.open)
    invited_staff(world.open, 5, segments={"department": "Sales"}, comments=["secret"] * 5)
    response = analyst_client.get(responses_url(world.open, "export/?format=csv"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="summer-responses.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").strip().splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["response", "side", "language", "channel", "submitted_on"]
    assert "email" not in header and "invitation" not in header
    assert len(lines) == 1 + 1 + 6  # the customer, then the six published staff
    assert lines[1].split(",")[1:4] == ["customer", "ja", "anonymous"]
    for line in lines[2:]:
        assert line.startswith(",staff,,,,Sales,")  # no id, language, channel or day
    assert "secret" not in text
    event = last_audit(m.AuditEvent.Action.EXPORT)
    assert (event.username, event.details) == ("analyst", {"format": "csv", "side": "all"})


def test_xlsx_export_has_the_spreadsheet_content_type(world, analyst_client):
    import openpyxl
    publish_every_customer(world.open)
    response = analyst_client.get(responses_url(world.open, "export/?format=xlsx&side=customer"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="summer-responses-customer.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2
    assert sheet.cell(row=2, column=2).value == "customer"


@pytest.mark.parametrize(("query", "field"), [("format=pdf", "format"), ("format=csv&side=board", "side")])
def test_a_bad_export_parameter_is_a_json_400(world, analyst_client, query, field):
    response = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/export/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.data
