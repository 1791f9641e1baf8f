"""`manage.py analyse_csv` on files shaped as survey tools export them (issue 17, item 4).

Each fixture is a small invented export in the shape of one tool (Google Forms, Microsoft Forms, SurveyMonkey,
Qualtrics, LimeSurvey). The numbers are checked against scipy and numpy on the levels the test itself assigns to
each label, not against the engine. No test here touches the database (pytest-django would fail a query).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy import stats as sps

EN5 = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
JA5 = ["まったくそう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "とてもそう思う"]
EN7 = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree", "Agree",
       "Strongly agree"]


def _csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _run(path, *args) -> tuple[dict, str]:
    """The command's JSON and what it wrote to standard error."""
    out, err = io.StringIO(), io.StringIO()
    call_command("analyse_csv", str(path), *args, "--format", "json", stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def _item(result: dict, key: str) -> dict:
    return next(i for i in result["items"] if i["key"] == key)


def _welch_p(a, b) -> float:
    return float(sps.ttest_ind(a, b, equal_var=False).pvalue)


# --------------------------------------------------------------------------- Google Forms


@pytest.fixture
def google_forms(tmp_path):
    """Timestamp, e-mail, question texts as headers, label answers, a free-text question."""
    rng = np.random.default_rng(21)
    staff = rng.integers(2, 6, size=(12, 2))
    cust = rng.integers(1, 6, size=(15, 2))
    header = ["Timestamp", "Email Address", "Which best describes you?", "We put customers first",
              "We keep our promises to customers", "Anything else?"]
    rows = [header]
    people = [("I work at Acme", r) for r in staff] + [("I am a customer", r) for r in cust]
    for n, (side, answers) in enumerate(people):
        rows.append([f"2026/03/{n % 28 + 1:02d} 9:{n:02d}:00", f"person{n}@example.com", side,
                     *[EN5[v - 1] for v in answers], "Thanks" if n % 4 == 0 else ""])
    return _csv(tmp_path / "google-forms.csv", rows), staff, cust


def test_google_forms_labels_become_levels_and_the_other_columns_are_named_as_skipped(google_forms):
    path, staff, cust = google_forms
    result, err = _run(path, "--side-column", "Which best describes you?", "--staff-value", "I work at Acme",
                       "--customer-value", "I am a customer", "--dimension", "promise=we put customers first,"
                       "we keep our promises to customers")
    assert [i["key"] for i in result["items"]] == ["we put customers first", "we keep our promises to customers"]
    first = _item(result, "we put customers first")
    assert first["mean_staff"] == pytest.approx(staff[:, 0].mean(), rel=1e-12)
    assert first["mean_customer"] == pytest.approx(cust[:, 0].mean(), rel=1e-12)
    assert first["welch"]["p"] == pytest.approx(_welch_p(staff[:, 0], cust[:, 0]), rel=1e-9)
    dim = result["dimensions"][0]
    assert dim["gap"] == pytest.approx(staff.mean(axis=1).mean() - cust.mean(axis=1).mean(), rel=1e-12)
    skipped = {s["column"]: s["reason"] for s in result["skipped"]}
    assert set(skipped) == {"timestamp", "email address", "which best describes you?", "anything else?"}
    assert "identifier, time, e-mail" in skipped["timestamp"] and "e-mail" in skipped["email address"]
    assert skipped["which best describes you?"] == "the side column"
    assert "'Thanks'" in skipped["anything else?"] and "row 2" in skipped["anything else?"]
    # The same list on standard error, for the table and CSV formats too.
    assert "Columns not analysed:" in err and "anything else?: not an answer of the 5-point scale" in err
    assert result["file"] == {"tool": "plain", "header_rows": 1, "format": "wide",
                              "items": ["we put customers first", "we keep our promises to customers"],
                              "segments": {"staff": [], "customer": [], "verified": False}, "weight_column": None,
                              "notes": []}


def test_labels_are_read_whatever_their_case_width_and_spacing(tmp_path):
    staff = ("STRONGLY  AGREE", " agree", "Ａｇｒｅｅ", "Neutral", "5 - Strongly agree")
    rows = [["side", "q"]] + [["staff", v] for v in staff]
    rows += [["customer", v] for v in ("strongly disagree", "Disagree", "disagree ", "4", "Don’t know", "N/A")]
    result, _ = _run(_csv(tmp_path / "f.csv", rows), "--k-min", "4")
    q = _item(result, "q")
    assert q["n_staff"] == 5 and q["mean_staff"] == pytest.approx((5 + 4 + 4 + 3 + 5) / 5, rel=1e-12)
    # "Don’t know" (a curly apostrophe) and "N/A" are no answer: four customers answered.
    assert q["n_customer"] == 4 and q["mean_customer"] == pytest.approx((1 + 2 + 2 + 4) / 4, rel=1e-12)


# --------------------------------------------------------------------------- Microsoft Forms (XLSX, Japanese)


@pytest.fixture
def microsoft_forms(tmp_path):
    """ID, start and completion times, e-mail, name, then Japanese label answers, saved as Excel does."""
    from openpyxl import Workbook

    rng = np.random.default_rng(8)
    staff = rng.integers(1, 6, size=(10, 2))
    cust = rng.integers(1, 6, size=(11, 2))
    wb = Workbook()
    ws = wb.active
    ws.append(["ID", "開始時刻", "完了時刻", "メール", "名前", "所属", "顧客の声を製品に反映している",
               "約束を守っている"])
    for n, (side, answers) in enumerate([("社員", r) for r in staff] + [("顧客", r) for r in cust], start=1):
        ws.append([n, f"3/{n}/26 10:00:00", f"3/{n}/26 10:05:00", "anonymous", "", side,
                   *[JA5[v - 1] for v in answers]])
    path = tmp_path / "microsoft-forms.xlsx"
    wb.save(path)
    return path, staff, cust


def test_microsoft_forms_japanese_labels_and_its_columns(microsoft_forms):
    path, staff, cust = microsoft_forms
    result, _ = _run(path, "--side-column", "所属", "--staff-value", "社員", "--customer-value", "顧客")
    assert [i["key"] for i in result["items"]] == ["顧客の声を製品に反映している", "約束を守っている"]
    skipped = {s["column"] for s in result["skipped"]}
    assert skipped == {"id", "開始時刻", "完了時刻", "メール", "名前", "所属"}
    for j, key in enumerate(["顧客の声を製品に反映している", "約束を守っている"]):
        item = _item(result, key)
        assert item["mean_staff"] - item["mean_customer"] == pytest.approx(item["gap"])
        assert item["gap"] == pytest.approx(staff[:, j].mean() - cust[:, j].mean(), rel=1e-12)
        assert item["welch"]["p"] == pytest.approx(_welch_p(staff[:, j], cust[:, j]), rel=1e-9)
        # Top box: the top two levels (ややそう思う, とてもそう思う).
        assert item["topbox"]["x_staff"] == int((staff[:, j] >= 4).sum())


def test_a_japanese_label_whose_level_depends_on_the_wording_is_decided_by_the_file_or_by_labels(tmp_path):
    """「そう思う」 is 5 under 「そう思わない…そう思う」 but 4 under 「…そう思う、とてもそう思う」."""
    alone = [["side", "a"]] + [["staff", "そう思う"]] * 5 + [["customer", "どちらともいえない"]] * 5
    with pytest.raises(CommandError, match=r"'a'.*そう思う.*\(4 or 5\).*--labels"):
        _run(_csv(tmp_path / "alone.csv", alone), "--items", "a")
    # Without --items the column is skipped with that reason, and with no other column that is an error.
    with pytest.raises(CommandError, match=r"(?s)No item column.*\n  a: labels whose level depends on the wording"):
        _run(_csv(tmp_path / "alone.csv", alone))
    # A second column of the file shows the wording (とてもそう思う is in only one 5-point wording with そう思う).
    both = ([["side", "a", "b"]] + [["staff", "そう思う", "とてもそう思う"]] * 5
            + [["customer", "どちらともいえない", "そう思う"]] * 5)
    result, _ = _run(_csv(tmp_path / "both.csv", both))
    assert _item(result, "a")["mean_staff"] == 4 and _item(result, "b")["mean_customer"] == 4
    # Or the user says: a JSON labels file.
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"そう思う": 5, "どちらともいえない": 3}, ensure_ascii=False), encoding="utf-8")
    result, _ = _run(_csv(tmp_path / "alone.csv", alone), "--labels", str(labels))
    assert _item(result, "a")["mean_staff"] == 5 and _item(result, "a")["mean_customer"] == 3


# --------------------------------------------------------------------------- SurveyMonkey (two header rows)


@pytest.fixture
def surveymonkey(tmp_path):
    rng = np.random.default_rng(4)
    staff = rng.integers(1, 6, size=(9, 2))
    cust = rng.integers(1, 6, size=(13, 2))
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
            "Last Name", "Custom Data 1"]
    matrix = "How much do you agree with each statement?"
    rows = [meta + ["Are you staff or a customer?", matrix, "", "What should we change?"],
            [""] * len(meta) + ["Response", "We listen", "We follow up", "Open-Ended Response"]]
    for n, (side, answers) in enumerate([("Staff", r) for r in staff] + [("Customer", r) for r in cust]):
        rows.append([114000000 + n, 431000000, "03/02/2026 10:11:12 AM", "03/02/2026 10:15:00 AM", f"10.0.0.{n}",
                     "", "", "", "", side, *[EN5[v - 1] for v in answers], "More calls" if n % 3 else ""])
    return _csv(tmp_path / "surveymonkey.csv", rows), staff, cust


def test_surveymonkey_two_header_rows_name_each_statement_of_a_matrix(surveymonkey):
    path, staff, cust = surveymonkey
    result, _ = _run(path, "--side-column", "are you staff or a customer?", "--items", "how much do you agree*",
                     "--dimension", "care=how much do you agree with each statement? - we listen,"
                     "how much do you agree with each statement? - we follow up")
    assert result["file"]["tool"] == "surveymonkey" and result["file"]["header_rows"] == 2
    keys = [i["key"] for i in result["items"]]
    assert keys == ["how much do you agree with each statement? - we listen",
                    "how much do you agree with each statement? - we follow up"]
    for j, key in enumerate(keys):
        assert _item(result, key)["welch"]["p"] == pytest.approx(_welch_p(staff[:, j], cust[:, j]), rel=1e-9)
    assert result["response_counts"] == {"staff": 9, "customer": 13}
    # Found without --items as well: the IDs, dates and the open-ended answer are not items.
    found, _ = _run(path, "--side-column", "are you staff or a customer?")
    assert [i["key"] for i in found["items"]] == keys
    reasons = {s["column"]: s["reason"] for s in found["skipped"]}
    assert "identifier" in reasons["respondent id"] and "identifier" in reasons["ip address"]
    assert "'More calls'" in reasons["what should we change? - open-ended response"]


# --------------------------------------------------------------------------- Qualtrics (three header rows, 7 points)


@pytest.fixture
def qualtrics(tmp_path):
    rng = np.random.default_rng(17)
    staff = rng.integers(2, 8, size=(14, 2))
    cust = rng.integers(1, 8, size=(12, 2))
    ids = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
           "RecordedDate", "ResponseId", "Q1", "Q2_1", "Q2_2", "Q3"]
    texts = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
             "Finished", "Recorded Date", "Response ID", "Which describes you?",
             "How far do you agree? - We solve problems", "How far do you agree? - We explain clearly",
             "Comments"]
    import_ids = [json.dumps({"ImportId": i}) for i in ("startDate", "endDate", "status", "ipAddress", "progress",
                                                         "duration", "finished", "recordedDate", "_recordId",
                                                         "QID1", "QID2_1", "QID2_2", "QID3_TEXT")]
    rows = [ids, texts, import_ids]
    for n, (side, answers) in enumerate([("Employee", r) for r in staff] + [("Customer", r) for r in cust]):
        rows.append(["2026-03-02 10:00:00", "2026-03-02 10:04:00", "IP Address", f"10.1.0.{n}", "100",
                     str(200 + n), "True", "2026-03-02 10:04:01", f"R_{n:04d}abc", side,
                     *[EN7[v - 1] for v in answers], ""])
    return _csv(tmp_path / "qualtrics.csv", rows), staff, cust


def test_qualtrics_three_header_rows_and_a_seven_point_scale(qualtrics):
    path, staff, cust = qualtrics
    result, _ = _run(path, "--side-column", "q1", "--staff-value", "employee", "--scale", "7",
                     "--dimension", "service=q2_1,q2_2")
    assert result["file"]["tool"] == "qualtrics" and result["file"]["header_rows"] == 3
    assert [i["key"] for i in result["items"]] == ["q2_1", "q2_2"]
    for j, key in enumerate(["q2_1", "q2_2"]):
        item = _item(result, key)
        assert item["levels"] == list(range(1, 8))
        assert item["mean_staff"] == pytest.approx(staff[:, j].mean(), rel=1e-12)
        assert item["welch"]["p"] == pytest.approx(_welch_p(staff[:, j], cust[:, j]), rel=1e-9)
    dim = result["dimensions"][0]
    assert dim["gap"] == pytest.approx(staff.mean(axis=1).mean() - cust.mean(axis=1).mean(), rel=1e-12)
    reasons = {s["column"]: s["reason"] for s in result["skipped"]}
    # Progress, Duration and Finished are numbers, but the tool's own columns, never items.
    assert {"progress", "duration (in seconds)", "finished", "responseid", "status"} <= set(reasons)
    assert reasons["q3"] == "no answers"


def test_a_seven_point_label_read_on_a_five_point_scale_is_an_error_naming_row_column_and_value(qualtrics):
    path, _, _ = qualtrics
    with pytest.raises(CommandError) as exc:
        _run(path, "--side-column", "q1", "--staff-value", "employee", "--items", "q2_1")
    message = str(exc.value)
    # Somewhat agree is not in a 5-point wording with Disagree and Agree; the first bad cell is named exactly.
    line = next(line for line in message.splitlines() if "'Somewhat" in line)
    assert line.startswith("Row ") and "column 'q2_1'" in line and "is not a whole number from 1 to 5" in line


# --------------------------------------------------------------------------- LimeSurvey (answer codes)


@pytest.fixture
def limesurvey(tmp_path):
    rng = np.random.default_rng(30)
    staff = rng.integers(1, 6, size=(8, 2))
    cust = rng.integers(1, 6, size=(10, 2))
    rows = [["id", "submitdate", "lastpage", "startlanguage", "seed", "G01Q01", "G02Q01[SQ001]", "G02Q01[SQ002]"]]
    for n, (side, answers) in enumerate([("A1", r) for r in staff] + [("A2", r) for r in cust], start=1):
        rows.append([n, f"2026-03-0{n % 9 + 1} 11:00:00", 2 + n % 2, "ja", 100000 + 7 * n, side,
                     *[f"A{v}" for v in answers]])
    return _csv(tmp_path / "limesurvey.csv", rows), staff, cust


@pytest.mark.parametrize("suffix", ["yaml", "json", "csv"])
def test_limesurvey_answer_codes_through_a_labels_file(limesurvey, tmp_path, suffix):
    path, staff, cust = limesurvey
    codes = {f"A{v}": v for v in range(1, 6)}
    labels = tmp_path / f"codes.{suffix}"
    if suffix == "json":
        labels.write_text(json.dumps(codes))
    elif suffix == "yaml":
        labels.write_text("".join(f"{k}: {v}\n" for k, v in codes.items()) + "A99: na\n")
    else:
        labels.write_text("label,level\n" + "".join(f"{k},{v}\n" for k, v in codes.items()))
    result, _ = _run(path, "--side-column", "g01q01", "--staff-value", "a1", "--customer-value", "a2",
                     "--labels", str(labels))
    assert [i["key"] for i in result["items"]] == ["g02q01[sq001]", "g02q01[sq002]"]
    for j, key in enumerate(["g02q01[sq001]", "g02q01[sq002]"]):
        assert _item(result, key)["welch"]["p"] == pytest.approx(_welch_p(staff[:, j], cust[:, j]), rel=1e-9)
    reasons = {s["column"]: s["reason"] for s in result["skipped"]}
    assert set(reasons) == {"id", "submitdate", "lastpage", "startlanguage", "seed", "g01q01"}


def test_limesurvey_codes_without_labels_are_not_items_and_named_when_asked_for(limesurvey):
    path, _, _ = limesurvey
    with pytest.raises(CommandError, match="No item column"):
        _run(path, "--side-column", "g01q01", "--staff-value", "a1", "--customer-value", "a2")
    with pytest.raises(CommandError) as exc:
        _run(path, "--side-column", "g01q01", "--staff-value", "a1", "--customer-value", "a2",
             "--items", "g02q01[[]sq001]")
    assert "Row 2, column 'g02q01[sq001]': 'A" in str(exc.value) and "--labels" in str(exc.value)


@pytest.mark.parametrize("content, message", [
    ("Agree: 6\n", "'Agree' is '6', not a whole number from 1 to 5"),
    ("- just a list\n", "must map each answer label to its level"),
    ("a: [unclosed\n", "not valid YAML"),
])
def test_a_bad_labels_file_is_a_command_error(tmp_path, content, message):
    labels = tmp_path / "labels.yaml"
    labels.write_text(content)
    path = _csv(tmp_path / "f.csv", [["side", "q"], ["staff", "Agree"], ["customer", "Agree"]])
    with pytest.raises(CommandError, match=message):
        _run(path, "--labels", str(labels))


# --------------------------------------------------------------------------- errors: one side, no item, side value


def test_a_file_of_one_side_only_is_an_error_not_a_table_of_not_assessed(tmp_path):
    path = _csv(tmp_path / "staff-only.csv", [["side", "q1", "q2"]] + [["staff", 4, 5], ["staff", 3, 2]] * 4)
    with pytest.raises(CommandError, match="no customer rows.*'side' is 'customer'.*needs both"):
        _run(path)


def test_a_file_without_an_item_column_is_an_error_naming_why_each_column_is_not_one(tmp_path):
    path = _csv(tmp_path / "f.csv", [["side", "email", "comment", "q"], ["staff", "a@b.c", "fine", "3"],
                                     ["customer", "d@e.f", "good", "3"]])
    with pytest.raises(CommandError) as exc:
        _run(path)
    text = str(exc.value)
    assert text.startswith("No item column") and "comment: not an answer of the 5-point scale: 'fine' in row 2" in text
    assert "q: fewer than 2 distinct levels (every answer is 3)" in text and "email: an identifier" in text


def test_the_command_exits_1_with_a_message_and_no_traceback(tmp_path):
    """Through manage.py itself: what a user sees for a file with one side."""
    path = _csv(tmp_path / "one.csv", [["side", "q"], ["customer", "1"], ["customer", "2"]])
    done = subprocess.run([sys.executable, "manage.py", "analyse_csv", str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], env={**_env(), "DEBUG": "1"}, timeout=120)
    assert done.returncode == 1
    assert "no staff rows" in done.stderr and "Traceback" not in done.stderr


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | {
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "backend.settings")}


# --------------------------------------------------------------------------- weights


def test_customer_weights_give_the_weighted_mean_and_kish_n_and_staff_weights_are_not_read(tmp_path):
    rng = np.random.default_rng(12)
    staff = rng.integers(1, 6, size=8)
    cust = rng.integers(1, 6, size=12)
    w = rng.choice([0.5, 1.0, 2.0, 3.5], size=12)
    rows = [["side", "q", "revenue weight"]] + [["staff", v, "not a number"] for v in staff]
    rows += [["customer", v, wt] for v, wt in zip(cust, w, strict=True)]
    result, _ = _run(_csv(tmp_path / "w.csv", rows), "--weight", "Revenue weight")
    weighted = _item(result, "q")["weighted"]
    assert weighted["customer_mean_weighted"] == pytest.approx(np.average(cust, weights=w), rel=1e-12)
    assert weighted["kish_n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert weighted["mean_staff"] == pytest.approx(staff.mean(), rel=1e-12)  # unweighted, whatever the cells say
    # The unweighted result stays as it was.
    assert _item(result, "q")["mean_customer"] == pytest.approx(cust.mean(), rel=1e-12)


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "inf"])
def test_a_bad_customer_weight_is_an_error_naming_row_and_column(tmp_path, bad):
    rows = [["side", "q", "w"]] + [["staff", v, ""] for v in (1, 2, 3, 4, 5)]
    rows += [["customer", v, "1"] for v in (1, 2, 3, 4)] + [["customer", 5, bad]]
    with pytest.raises(CommandError, match=rf"Row 11, column 'w': '{bad}' is not a weight"):
        _run(_csv(tmp_path / "w.csv", rows), "--weight", "w")


# --------------------------------------------------------------------------- --compare (the change of the gap)


def test_compare_with_an_earlier_file_gives_the_change_of_each_gap(tmp_path):
    rng = np.random.default_rng(40)
    waves = []
    for name, shift in (("h1.csv", 0), ("h2.csv", 1)):
        staff = rng.integers(1 + shift, 6, size=(14, 2))
        cust = rng.integers(1, 5, size=(16, 2))
        rows = [["Timestamp", "side", "q1", "q2"]] + [["2026-01-01", "staff", *r] for r in staff]
        rows += [["2026-01-01", "customer", *r] for r in cust]
        waves.append((_csv(tmp_path / name, rows), staff, cust))
    (h1, s1, c1), (h2, s2, c2) = waves
    result, _ = _run(h2, "--compare", str(h1), "--dimension", "d=q1,q2")
    assert result["did"]["compare_wave"] == {"id": None, "name": "h1.csv"}
    q1 = next(e for e in result["did"]["items"] if e["key"] == "q1")
    gap = lambda s, c: s[:, 0].mean() - c[:, 0].mean()  # noqa: E731
    assert q1["gap_wave1"] == pytest.approx(gap(s1, c1), rel=1e-12)
    assert q1["did"] == pytest.approx(gap(s2, c2) - gap(s1, c1), rel=1e-12)
    # Its standard error: the four independent groups' variances of the mean (sample variances), added.
    se = np.sqrt(sum(x[:, 0].var(ddof=1) / len(x) for x in (s1, c1, s2, c2)))
    assert q1["se"] == pytest.approx(se, rel=1e-9)
    d = result["did"]["dimensions"][0]
    score = lambda x: x.mean(axis=1).mean()  # noqa: E731
    assert d["did"] == pytest.approx((score(s2) - score(c2)) - (score(s1) - score(c1)), rel=1e-12)


def test_compare_with_a_file_missing_the_items_is_an_error(tmp_path):
    now = _csv(tmp_path / "now.csv", [["side", "q1"]] + [["staff", v] for v in (1, 2, 3)] * 2
               + [["customer", v] for v in (3, 4, 5)] * 2)
    before = _csv(tmp_path / "before.csv", [["side", "other"], ["staff", 1], ["customer", 2]])
    with pytest.raises(CommandError, match="--compare: the earlier file has none of the item columns"):
        _run(now, "--compare", str(before), "--k-min", "3")


# --------------------------------------------------------------------------- long format


def _wide_and_long(tmp_path, rng):
    staff = rng.integers(1, 6, size=(9, 2))
    cust = rng.integers(1, 6, size=(11, 2))
    wide = [["side", "q1", "q2"]] + [["staff", *r] for r in staff] + [["customer", *r] for r in cust]
    long = [["side", "respondent_id", "item", "value"]]
    for n, row in enumerate(wide[1:]):
        long += [[row[0], f"r{n}", "Q1", row[1]], [row[0], f"r{n}", "Q2", row[2]]]
    long = [long[0]] + long[1:][::-1]  # any row order
    return _csv(tmp_path / "wide.csv", wide), _csv(tmp_path / "long.csv", long)


def test_the_long_format_gives_the_wide_files_result(tmp_path):
    wide, long = _wide_and_long(tmp_path, np.random.default_rng(2))
    from_wide, _ = _run(wide, "--dimension", "d=q1,q2")
    from_long, _ = _run(long, "--long", "--dimension", "d=q1,q2")
    # Items come in the order they are first met (here q2: the rows are reversed); each is the wide file's.
    assert [i["key"] for i in from_long["items"]] == ["q2", "q1"]
    unordered = lambda r: {i["key"]: {k: v for k, v in i.items() if k != "order"} for i in r["items"]}  # noqa: E731
    assert unordered(from_long) == unordered(from_wide)
    assert from_long["dimensions"][0]["gap"] == pytest.approx(from_wide["dimensions"][0]["gap"], rel=1e-12)
    assert from_long["response_counts"] == from_wide["response_counts"]
    assert from_long["file"]["format"] == "long"


def test_the_long_format_names_a_duplicate_answer_and_a_respondent_whose_rows_disagree(tmp_path):
    rows = [["side", "respondent_id", "team", "item", "value"], ["staff", "r1", "A", "q1", 4],
            ["staff", "r1", "A", "q2", 3], ["staff", "r1", "A", "q1", 5], ["staff", "r1", "B", "q3", 2],
            ["customer", "r1", "", "q1", 2]]  # the same id on the other side: another respondent, no problem
    with pytest.raises(CommandError) as exc:
        _run(_csv(tmp_path / "long.csv", rows), "--long", "--segment", "team")
    lines = str(exc.value).splitlines()
    assert lines == ["long.csv: Row 4, column 'item': respondent 'r1' answers 'q1' twice (rows 2 and 4).",
                     "Row 5, column 'team': respondent 'r1' has 'A' here in row 2 and 'B' in this row."]


def test_long_files_of_the_two_sides_numbered_alike_are_two_sets_of_respondents(tmp_path):
    rows = [["side", "respondent_id", "item", "value"]]
    for side, values in (("staff", (5, 4, 4, 5, 3)), ("customer", (2, 3, 1, 2, 3))):
        rows += [[side, str(n), "q", v] for n, v in enumerate(values, start=1)]
    result, _ = _run(_csv(tmp_path / "long.csv", rows), "--long")
    assert result["response_counts"] == {"staff": 5, "customer": 5}
    assert _item(result, "q")["gap"] == pytest.approx(4.2 - 2.2, rel=1e-12)


def test_a_bad_value_in_the_long_format_is_named_at_its_own_row(tmp_path):
    rows = [["side", "respondent_id", "item", "value"]]
    for n in range(6):
        rows += [["staff", f"s{n}", "q1", 1 + n % 5], ["staff", f"s{n}", "q2", 1 + n % 4],
                 ["customer", f"c{n}", "q1", 1 + (n + 2) % 5], ["customer", f"c{n}", "q2", 2 + n % 3]]
    assert rows[12][:3] == ["customer", "c2", "q2"]
    rows[12][3] = "often"  # row 13 of the file (the header is row 1); respondent c2's first row is row 12
    with pytest.raises(CommandError, match=r"Row 13, column 'q2': 'often' is not a whole number"):
        _run(_csv(tmp_path / "long.csv", rows), "--long", "--items", "q1,q2")


# --------------------------------------------------------------------------- header rows given


def test_header_rows_given_join_each_columns_cells(tmp_path):
    rows = [["", "Service", "", "Group"], ["id", "Speed", "Care", ""]]
    rows += [[n, 1 + n % 5, 1 + (n * 3) % 5, "staff" if n < 6 else "customer"] for n in range(12)]
    result, _ = _run(_csv(tmp_path / "two.csv", rows), "--header-rows", "2", "--side-column", "group")
    assert [i["key"] for i in result["items"]] == ["service - speed", "service - care"]
    assert result["file"]["tool"] == "header-rows"
    with pytest.raises(CommandError, match="--header-rows must be from 1 to 10"):
        _run(_csv(tmp_path / "two.csv", rows), "--header-rows", "0")
