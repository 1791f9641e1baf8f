"""Staff anonymity against an insider, on the demo: each route of issue 12's table is its own test.

The routes (what an executive, analyst or admin of the demo organisation tried, and what it
recovered before the disclosure layer):

1. the staff invitation list joined with the staff rows of the export and the responses list;
2. raw staff rows of small groups (a 4-person department, single executives) with comments;
3. inclusion–exclusion over gap views (A − A∩B − A∩C + A∩B∩C) over every single, pair and triple filter;
4. a heatmap inside a filtered view showing a cell the direct filter hides;
5. self-declared anonymous answers tagged with a small department, lifting it over k;
6. snapshots before and after one colleague answers;
7. the anonymous link without its cookie (tests/security/test_disclosure_anonymous_link.py);
8. a lowered threshold (tests/security/test_disclosure_threshold.py, and k = 3 and 4 in the attacker test).

Plus: every output asks the decision point (with a policy that releases nothing, no output shows a
staff number or row), the outputs agree on what is hidden, and every read is audited (P7).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from reports import services as gap
from surveys import disclosure, releases, services
from surveys import models as m
from surveys.demo import SMALL_DEPARTMENT
from tests import factories as f
from tests.security.test_disclosure_attacker import Knowledge, Semantics, read_view, recoverable_small_groups
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, open_wave

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- the demo wave, loaded once


def _truth(wave: m.Wave) -> list[dict]:
    """Every published response of the wave as the test knows it (ground truth, never an output)."""
    out = []
    for r in (m.SurveyResponse.objects.filter(wave=wave, release__isnull=False).order_by("id")
              .prefetch_related("answers__item")):
        answers = {a.item.key: ("na" if a.value is None else a.value) for a in r.answers.all()}
        out.append({"side": r.side, "segments": dict(r.segments or {}), "channel": r.channel, "answers": answers,
                    "comment": r.comment})
    return out


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo organization's open wave (load_demo, 200 customer and 60 staff responses a wave)."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--responses", "200", "--seed", "11", stdout=open("/dev/null", "w"))  # noqa: SIM115
        wave = m.Wave.objects.select_related("organization").filter(previous_wave__isnull=False).first()
        releases.publish_due(wave)
        truth = _truth(wave)
        User = get_user_model()
        users = {name: User.objects.get(username=f"demo-{name}") for name in ("admin", "analyst", "exec")}
    yield {"wave": wave, "truth": truth, "users": users}
    with django_db_blocker.unblock():
        from reports.models import ReportJob
        from surveys.demo import demo_delete

        ReportJob.objects.filter(wave__organization=wave.organization).delete()
        m.AuditEvent.objects.filter(organization=wave.organization).delete()
        demo_delete()


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _export_rows(client: APIClient, wave: m.Wave, fmt: str = "csv", side: str = "staff") -> list[dict]:
    response = client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": fmt, "side": side})
    assert response.status_code == 200, response.content[:200]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _list_rows(client: APIClient, wave: m.Wave, side: str = "staff") -> list[dict]:
    rows, url, params = [], f"/api/v1/waves/{wave.pk}/responses/", {"side": side, "page_size": 500}
    while url:
        body = client.get(url, params).json()
        rows += body["results"]
        url, params = body.get("next"), None
    return rows


STAFF_FIELDS = ("department", "role", "tenure")


# --------------------------------------------------------------------------- route 1: invitation list ⋈ rows


def test_route_1_the_invitation_list_joined_with_the_staff_rows_ties_no_row_to_a_person(demo):
    wave, k = demo["wave"], demo["wave"].anonymity_threshold
    admin = _client(demo["users"]["admin"])
    invitations = admin.get(f"/api/v1/waves/{wave.pk}/invitations/", {"side": "staff", "page_size": 500}).json()
    invitees = invitations["results"]
    assert invitees and {i["status"] for i in invitees} <= {"pending", "sent"}  # never "answered"
    for rows in (_export_rows(admin, wave), _export_rows(admin, wave, "xlsx"), _list_rows(admin, wave)):
        assert rows
        tuples: dict[tuple, int] = {}
        for row in rows:
            segments = row["segments"] if "segments" in row else {key: row[key] for key in STAFF_FIELDS}
            key = tuple(segments.get(field, "") for field in STAFF_FIELDS)
            tuples[key] = tuples.get(key, 0) + 1
            # Nothing to join on but the released segment values: no id, day, channel, language, comment.
            for column in ("response", "id", "channel", "submitted_on", "language", "comment"):
                assert row.get(column) in (None, ""), (column, row)
        # Joined on segments, every invitee matches no row or at least k rows: no row is anybody's.
        for invitee in invitees:
            matches = sum(n for key, n in tuples.items()
                          if all(v in ("", disclosure.GENERALISED_LABEL) or invitee["segments"].get(f) == v
                                 for f, v in zip(STAFF_FIELDS, key, strict=True)))
            assert matches == 0 or matches >= k, (invitee["segments"], matches)
        assert min(tuples.values()) >= k, tuples


# --------------------------------------------------------------------------- route 2: raw rows of small groups


def test_route_2_rows_of_small_groups_and_their_comments_never_leave(demo):
    wave, k = demo["wave"], demo["wave"].anonymity_threshold
    analyst = _client(demo["users"]["analyst"])
    small = [t for t in demo["truth"] if t["side"] == "staff" and t["segments"].get("department") == SMALL_DEPARTMENT]
    executives = [t for t in demo["truth"] if t["side"] == "staff" and t["segments"].get("role") == "Executive"]
    assert 0 < len(small) < k and 0 < len(executives), "the demo must have small staff groups"
    for rows in (_export_rows(analyst, wave), _list_rows(analyst, wave)):
        text = json.dumps(rows, ensure_ascii=False)
        assert SMALL_DEPARTMENT not in text and "Executive" not in text
        counts: dict[str, int] = {}
        for row in rows:
            segments = row["segments"] if "segments" in row else {key: row[key] for key in STAFF_FIELDS}
            key = json.dumps([segments.get(field, "") for field in STAFF_FIELDS])
            counts[key] = counts.get(key, 0) + 1
        assert min(counts.values()) >= k
    staff_comments = {t["comment"] for t in demo["truth"] if t["side"] == "staff" and t["comment"]}
    exported = json.dumps(_export_rows(analyst, wave) + _list_rows(analyst, wave), ensure_ascii=False)
    assert not [c for c in staff_comments if c in exported], "comments leave only through the comments endpoint"
    groups = analyst.get(f"/api/v1/waves/{wave.pk}/comments/", {"side": "staff"}).json()
    assert all(g["n_responses"] >= k for g in groups)
    assert SMALL_DEPARTMENT not in json.dumps(groups, ensure_ascii=False)
    small_comments = {t["comment"] for t in small if t["comment"]}
    shown = {c for g in groups for c in g["comments"]}
    for group in groups:  # a comment is shown with its released group only, never with its own department
        assert set(group["segments"]) <= set(STAFF_FIELDS)
    assert small_comments <= shown or not small_comments  # small groups' comments go with a broader group


# --------------------------------------------------------------------------- route 3: inclusion–exclusion


def _staff_filters(wave: m.Wave, size: int) -> list[dict[str, str]]:
    fields = [(fd["key"], fd["choices"]) for fd in wave.staff_segment_fields]
    out = []
    for chosen in itertools.combinations(fields, size):
        for values in itertools.product(*(choices for _, choices in chosen)):
            out.append({key: value for (key, _), value in zip(chosen, values, strict=True)})
    return out


@pytest.fixture(scope="module")
def demo_views(demo, django_db_blocker):
    """The gap for all staff and every single, pair and triple filter of the demo's staff fields, with heatmaps."""
    wave = demo["wave"]
    out = []
    with django_db_blocker.unblock():
        for size in range(4):
            for flt in _staff_filters(wave, size) if size else [{}]:
                out.append((flt, gap.gap_analysis(wave=wave, staff_filter=flt, segments=size <= 1)))
    return out


def test_route_3_no_combination_of_the_demo_views_recovers_fewer_than_k_staff(demo, demo_views):
    wave = demo["wave"]
    assert len(demo_views) == 1 + (5 + 3 + 4) + (15 + 20 + 12) + 60
    sems = [Semantics(wave, demo["truth"]), Semantics(wave, demo["truth"], blocks=False)]
    know = Knowledge()
    for flt, body in demo_views:
        read_view(sems, know, body, flt, {})
    assert know.checked > 1000
    small, recovered = recoverable_small_groups(know.sets["staff"], wave.anonymity_threshold)
    assert recovered == [] and small == [], [len(g) for g in recovered or small]


def test_route_3_four_view_inclusion_exclusion_on_the_demo_isolates_no_small_group(demo, demo_views):
    """A − A∩B − A∩C + A∩B∩C for every department A and role/tenure values B, C, on every shown count."""
    k = demo["wave"].anonymity_threshold
    by_filter = {json.dumps(flt, sort_keys=True): body for flt, body in demo_views}

    def counts(flt: dict) -> dict[str, int]:
        body = by_filter[json.dumps(flt, sort_keys=True)]
        out = {"n": body["response_counts"]["staff"] or 0}
        for item in body["items"]:
            out[item["key"]] = item["n_staff"] or 0
        return out

    checked = 0
    wave = demo["wave"]
    fields = {fd["key"]: fd["choices"] for fd in wave.staff_segment_fields}
    for dept in fields["department"]:
        for role in fields["role"]:
            for tenure in fields["tenure"]:
                a = counts({"department": dept})
                ab = counts({"department": dept, "role": role})
                ac = counts({"department": dept, "tenure": tenure})
                abc = counts({"department": dept, "role": role, "tenure": tenure})
                for key in a:
                    rest = a[key] - ab[key] - ac[key] + abc[key]
                    checked += 1
                    assert rest == 0 or rest >= k, (dept, role, tenure, key, rest)
    assert checked > 500


# --------------------------------------------------------------------------- route 4: heatmaps inside filters


def test_route_4_a_heatmap_inside_a_filter_shows_exactly_what_the_direct_filter_shows(demo, demo_views):
    by_filter = {json.dumps(flt, sort_keys=True): body for flt, body in demo_views}
    compared = 0
    for flt, body in demo_views:
        if len(flt) != 1:
            continue
        for field in body["segments"]["staff"]:
            for group in field["groups"]:
                direct = by_filter[json.dumps({**flt, field["field"]: group["value"]}, sort_keys=True)]
                assert group["n"] == direct["response_counts"]["staff"], (flt, field["field"], group["value"])
                dims = {d["key"]: d for d in direct["dimensions"]}
                for key, cell in group["dimensions"].items():
                    assert cell["n_staff"] == dims[key]["n_staff"], (flt, group["value"], key)
                    assert cell["gap"] == dims[key]["gap"], (flt, group["value"], key)
                    compared += 1
    assert compared > 50


# --------------------------------------------------------------------------- route 5: padding


def test_route_5_self_declared_answers_cannot_lift_a_small_department_over_k(demo):
    wave, k = demo["wave"], demo["wave"].anonymity_threshold
    small = [t for t in demo["truth"] if t["side"] == "staff" and t["segments"].get("department") == SMALL_DEPARTMENT]
    items = [i.key for i in services.survey_items(wave=wave, side="staff")]
    answers = {key: 3 for key in items}
    stored = []
    for _ in range(k + 3 - len(small)):  # more than enough fakes, in one release
        stored.append(services.response_submit(wave=wave, side="staff", answers=answers, language="en",
                                               channel="anonymous", segments={"department": SMALL_DEPARTMENT},
                                               required=False))
    try:
        body = gap.gap_analysis(wave=wave, staff_filter={"department": SMALL_DEPARTMENT})
        assert body["response_counts"]["staff"] is None
        assert {i["report_status"] for i in body["items"]} == {"suppressed_anonymity"}
        full = gap.gap_analysis(wave=wave)
        dept = next(f for f in full["segments"]["staff"] if f["field"] == "department")
        group = next(g for g in dept["groups"] if g["value"] == SMALL_DEPARTMENT)
        assert group["n"] is None and group["report_status"] == "suppressed_anonymity"
        rows = _list_rows(_client(demo["users"]["analyst"]), wave)
        assert SMALL_DEPARTMENT not in json.dumps(rows, ensure_ascii=False)
    finally:
        m.SurveyResponse.objects.filter(pk__in=[r.pk for r in stored]).delete()


# --------------------------------------------------------------------------- route 6: one more answer


def _outputs(wave: m.Wave, client: APIClient) -> dict[str, Any]:
    """Everything a reader can see of the wave's staff side (API and engine), without the audit log."""
    body = gap.gap_analysis(wave=wave)
    filtered = gap.gap_analysis(wave=wave, staff_filter={"department": "Sales"})
    return {"gap": body, "filtered": filtered, "rows": _list_rows(client, wave),
            "export": _export_rows(client, wave),
            "comments": client.get(f"/api/v1/waves/{wave.pk}/comments/").json(),
            "wave": client.get(f"/api/v1/waves/{wave.pk}/").json()}


def test_route_6_one_new_staff_answer_changes_no_output_until_k_have_arrived(org, analyst_client):
    wave = open_wave(org, slug="p4")
    staff = {key: (v if v == "na" else int(v)) for key, v in STAFF_ANSWERS.items()}
    roster = [services.invitation_create(wave=wave, side="staff", segments={"department": "Sales"}).invitation
              for _ in range(20)]  # the roster exists before anyone answers

    def answer(department: str) -> None:
        services.response_submit(wave=wave, side="staff", answers=staff, language="en", channel="invitation",
                                 invitation=roster.pop(), comment=f"note from {department}")

    for _ in range(6):
        answer("Sales")
    before = _outputs(wave, analyst_client)
    assert before["gap"]["response_counts"]["staff"] == 6 and before["gap"]["release"]["staff"]["number"] == 1
    k = wave.anonymity_threshold
    for i in range(k - 1):  # a colleague says "I have just answered", then more, up to k − 1
        answer("Sales")
        assert _outputs(wave, analyst_client) == before, f"output changed after {i + 1} new answer(s)"
    answer("Sales")  # the k-th: one release of k
    after = _outputs(wave, analyst_client)
    assert after["gap"]["response_counts"]["staff"] == 6 + k
    assert after["gap"]["release"]["staff"]["number"] == 2
    assert m.Release.objects.filter(wave=wave, side="staff").order_by("number").last().n_added == k


def test_route_6_closing_a_wave_never_publishes_fewer_than_k_new_answers(org, analyst_client):
    wave = open_wave(org, slug="p4-close")
    staff = {key: (v if v == "na" else int(v)) for key, v in STAFF_ANSWERS.items()}
    for _ in range(7):
        inv = services.invitation_create(wave=wave, side="staff", segments={"department": "Sales"})
        services.response_submit(wave=wave, side="staff", answers=staff, language="en", channel="invitation",
                                 invitation=inv.invitation)
    before = _outputs(wave, analyst_client)
    inv = services.invitation_create(wave=wave, side="staff", segments={"department": "Sales"})
    services.response_submit(wave=wave, side="staff", answers=staff, language="en", channel="invitation",
                             invitation=inv.invitation)
    services.wave_close(wave=wave)
    after = _outputs(wave, analyst_client)
    assert after["gap"]["response_counts"] == before["gap"]["response_counts"]
    assert after["gap"]["items"] == before["gap"]["items"]
    assert after["gap"]["release"]["staff"]["next"] is None  # closed: no next release is promised


# --------------------------------------------------------------------------- the decision point


def test_every_output_asks_the_decision_point(demo, monkeypatch, tmp_path):
    """With a policy that releases no block, no output may show a staff number, row or comment."""
    wave = demo["wave"]
    real = disclosure.plan_blocks

    def nothing(atoms, fields, k):
        plan = real(atoms, fields, k)
        return disclosure.BlockPlan(fields=plan.fields, k=k, block_of_atom={}, sizes={}, n_released=0,
                                    n_withheld=plan.n_released + plan.n_withheld)

    monkeypatch.setattr(disclosure, "plan_blocks", nothing)
    from django.core.cache import cache

    cache.clear()
    admin = _client(demo["users"]["admin"])
    body = admin.get(f"/api/v1/waves/{wave.pk}/gap/", {"lang": "en"}).json()
    filtered = admin.get(f"/api/v1/waves/{wave.pk}/gap/", {"staff": "department:Sales", "lang": "en"}).json()
    for result in (body, filtered):
        assert result["response_counts"]["staff"] is None
        for entry in [*result["items"], *result["dimensions"], result["overall"]]:
            assert entry["n_staff"] in (None, 0) and entry["mean_staff"] is None and entry["gap"] is None
        assert all(g["n"] is None for f in result["segments"]["staff"] for g in f["groups"]) if result[
            "segments"] else True
    difference = admin.get(f"/api/v1/waves/{wave.pk}/gap/segments/",
                           {"side": "staff", "field": "department", "first": "Sales", "second": "Support"})
    assert difference.status_code == 200, difference.content[:200]
    assert all(i["difference"] is None for i in [*difference.json()["items"], *difference.json()["dimensions"]])
    assert _list_rows(admin, wave) == []
    assert _export_rows(admin, wave) == []
    assert admin.get(f"/api/v1/waves/{wave.pk}/comments/").json() == []
    out = io.StringIO()
    call_command("gap", "--wave", str(wave.pk), "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["response_counts"]["staff"] is None
    from reports.context import build_report_context

    context = build_report_context(gap.gap_analysis(wave=wave, segments=True), language="en", wave=wave)
    assert all(row["n_staff"] is None and row["mean_staff"] is None for row in context["items"])


# --------------------------------------------------------------------------- the PDF agrees


def test_the_pdf_shows_no_number_for_the_small_department_and_agrees_with_the_gap(demo):
    from pypdf import PdfReader

    from reports.jobs import build_report

    wave = demo["wave"]
    options = {"segments": True, "compare_wave": wave.previous_wave_id}
    rendered = build_report(wave=wave, language="en", options=options, progress=lambda pct, step: None)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
    rows = [line for line in text.splitlines() if line.strip().startswith(SMALL_DEPARTMENT)]
    assert rows, "the small department is listed (marked), not silently dropped"
    for line in rows:
        assert not re.search(r"\d", line), line
    body = gap.gap_analysis(wave=wave)
    staff_n = body["response_counts"]["staff"]
    assert f"Staff responses {staff_n}" in text.replace("\n", " ") or str(staff_n) in text
    assert "Staff release" in text


# --------------------------------------------------------------------------- exports of a small invited wave


@pytest.fixture
def export_wave(org):
    """Staff answered through invitations carrying names and emails; customers through accounts."""
    wave = open_wave(org, slug="export")
    secrets: list[str] = []
    for i in range(6):
        issued = services.invitation_create(wave=wave, side="staff", language="en", email=f"staffer{i}@mirror.jp",
                                            name=f"Staffer Number{i}")
        secrets += [issued.token, issued.invitation.token_hash, f"staffer{i}@mirror.jp", f"Number{i}"]
        services.response_submit(wave=wave, side="staff", language="en", invitation=issued.invitation,
                                 answers={k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()},
                                 comment=f"secret comment {i}")
    account = f.CustomerAccountFactory(organization=org, external_id="ACME-1")
    for i in range(wave.customer_threshold):
        issued = services.invitation_create(wave=wave, side="customer", language="en", email=f"buyer{i}@acme.jp",
                                            customer_account=account)
        services.response_submit(wave=wave, side="customer", language="en", invitation=issued.invitation,
                                 answers={k: (v if v == "na" else int(v)) for k, v in CUSTOMER_ANSWERS.items()})
    return wave, secrets


def test_csv_and_xlsx_exports_carry_nothing_linkable_for_staff(owner_client, export_wave):
    wave, secrets = export_wave
    for fmt in ("csv", "xlsx"):
        rows = _export_rows(owner_client, wave, fmt, side="")
        staff = [r for r in rows if r["side"] == "staff"]
        assert len(staff) == 6
        for row in staff:
            flat = " ".join(str(v) for v in row.values())
            assert not [s for s in secrets if s in flat] and "secret comment" not in flat
            assert all(row[c] in ("", None) for c in ("response", "language", "channel", "submitted_on", "account",
                                                       "weight", "comment")), row
        customer = [r for r in rows if r["side"] == "customer"]
        assert customer and customer[0]["account"] == "ACME-1"  # customers keep their account link


# --------------------------------------------------------------------------- audit log (P7)


def _events(owner_client, wave, action: str) -> list[dict]:
    body = owner_client.get("/api/v1/audit-events/", {"wave": wave.pk, "action": action}).json()
    return body["results"]


def test_every_read_of_staff_derived_data_is_audited(owner_client, analyst_client, executive_client, export_wave,
                                                     tmp_path, django_capture_on_commit_callbacks):
    wave, _ = export_wave
    analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/", {"side": "staff"})
    analyst_client.get(f"/api/v1/waves/{wave.pk}/comments/")
    b"".join(analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/",
                                {"format": "csv", "side": "staff"}).streaming_content)
    executive_client.get(f"/api/v1/waves/{wave.pk}/gap/", {"segments": "false"})
    with django_capture_on_commit_callbacks(execute=False):
        executive_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en", "segments": False},
                              format="json")
    executive_client.get(f"/api/v1/waves/{wave.pk}/gap/segments/",
                         {"side": "staff", "field": "department", "first": "Sales", "second": "Support"})
    call_command("gap", "--wave", str(wave.pk), stdout=io.StringIO())
    call_command("export_responses", "--wave", wave.slug, "--format", "csv", "--out", str(tmp_path / "o.csv"),
                 stdout=io.StringIO(), stderr=io.StringIO())
    call_command("render_report", "--wave", str(wave.pk), "--lang", "en", "--out", str(tmp_path / "r.pdf"),
                 "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    from reports.jobs import report_job_request, report_job_run

    job, _ = report_job_request(wave=wave, language="en", dispatch=False)
    report_job_run(job.pk)
    assert executive_client.get(f"/api/v1/reports/{job.pk}/pdf/").status_code == 200
    page = Client()
    page.force_login(m.Membership.objects.get(organization=wave.organization, role="executive").user)
    assert page.get(f"/reports/jobs/{job.pk}/pdf/").status_code == 200
    events = owner_client.get("/api/v1/audit-events/", {"wave": wave.pk, "page_size": 100}).json()["results"]
    seen = {(e["action"], e["username"], e["details"].get("via", "")) for e in events}
    assert {("response_list", "analyst", ""), ("comment_list", "analyst", ""), ("export", "analyst", ""),
            ("gap_view", "executive", "api"), ("report_request", "executive", "api"),
            ("segment_difference", "executive", "api"), ("gap_view", "", "command"), ("export", "", ""),
            ("report_request", "", "command"), ("report_download", "executive", "api"),
            ("report_download", "executive", "page")} <= seen, seen


def test_requesting_a_report_is_audited_through_the_api_and_the_page(
        owner_client, executive, executive_client, org, django_capture_on_commit_callbacks):
    wave = open_wave(org, slug="audited")
    with django_capture_on_commit_callbacks(execute=False):
        assert executive_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en"},
                                     format="json").status_code == 202
        page = Client()
        page.force_login(executive)
        assert page.post(f"/reports/waves/{wave.pk}/ja/").status_code == 302
    events = _events(owner_client, wave, "report_request")
    assert [(e["username"], e["details"]["via"], e["details"]["language"]) for e in events] == [
        ("executive", "page", "ja"), ("executive", "api", "en")]  # newest first


def test_the_audit_log_is_readable_by_admins_only(owner_client, analyst_client, executive_client, outsider_client,
                                                   anon_client, export_wave):
    wave, _ = export_wave
    analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "xlsx"})
    assert len(_events(owner_client, wave, "export")) == 1
    assert analyst_client.get("/api/v1/audit-events/").status_code == 403
    assert executive_client.get("/api/v1/audit-events/").status_code == 403
    assert anon_client.get("/api/v1/audit-events/").status_code == 401
    assert outsider_client.get("/api/v1/audit-events/").json()["results"] == []
