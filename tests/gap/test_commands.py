"""The command-line twins of the gap API: `gap` for a wave, `analyse_csv` for another tool's export."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy import stats as sps

from reports import services


def test_the_gap_command_prints_the_engine_numbers_as_json(gap_wave, tmp_path):
    wave, _ = gap_wave
    out = tmp_path / "gap.json"
    call_command("gap", "--wave", wave.slug, "--format", "json", "--out", str(out))
    printed = json.loads(out.read_text())
    expected = services.gap_analysis(wave=wave)
    assert [i["gap"] for i in printed["items"]] == [i["gap"] for i in expected["items"]]
    assert printed["dimensions"][0]["classification"] == expected["dimensions"][0]["classification"]


def test_the_gap_command_writes_a_csv_table_and_a_readable_summary(gap_wave):
    wave, _ = gap_wave
    buf = io.StringIO()
    call_command("gap", "--wave", str(wave.pk), "--format", "csv", stdout=buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert {r["level"] for r in rows} == {"item", "dimension"}
    assert next(r for r in rows if r["key"] == "culture")["class"] == "blind_spot"
    text = io.StringIO()
    call_command("gap", "--wave", wave.slug, stdout=text)
    assert "culture" in text.getvalue() and "blind_spot" in text.getvalue()


def test_the_gap_command_names_a_bad_filter(gap_wave):
    wave, _ = gap_wave
    with pytest.raises(CommandError, match="salary"):
        call_command("gap", "--wave", wave.slug, "--staff", "salary:high")
    with pytest.raises(CommandError, match="No wave"):
        call_command("gap", "--wave", "no-such-wave")


def _export(tmp_path, rows, name="export.csv", encoding="utf-8-sig"):
    path = tmp_path / name
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Side", "Q1", "Q2", "Q3"])
        writer.writerows(rows)
    return path


def test_analyse_csv_matches_scipy_on_a_file_from_another_tool(tmp_path):
    rng = np.random.default_rng(1)
    staff = rng.integers(3, 6, size=(40, 3))
    cust = rng.integers(1, 6, size=(60, 3))
    rows = [["社員", *r] for r in staff] + [["顧客", *r] for r in cust]
    rows[5][2] = "わからない"
    path = _export(tmp_path, rows, encoding="cp932")
    out = tmp_path / "out.json"
    call_command("analyse_csv", str(path), "--staff-value", "社員", "--customer-value", "顧客",
                 "--dimension", "all=q1,q2,q3", "--format", "json", "--out", str(out))
    result = json.loads(out.read_text())
    q1 = next(i for i in result["items"] if i["key"] == "q1")
    # scipy: ttest_ind(x, y, equal_var=False)
    assert q1["welch"]["p"] == pytest.approx(sps.ttest_ind(staff[:, 0], cust[:, 0], equal_var=False).pvalue, rel=1e-9)
    q2 = next(i for i in result["items"] if i["key"] == "q2")
    assert q2["n_staff"] == 39  # the "don't know" answer is missing, not a scale point
    dim = result["dimensions"][0]
    staff_scores = staff.astype(float)
    staff_scores[5, 1] = np.nan  # the "don't know": scored on the two answered items (half rule)
    expected = np.nanmean(staff_scores, axis=1).mean() - cust.mean(axis=1).mean()
    assert dim["key"] == "all" and dim["gap"] == pytest.approx(expected, rel=1e-12)


def test_analyse_csv_reports_each_bad_cell_and_analyses_nothing(tmp_path):
    path = _export(tmp_path, [["staff", 1, 2, 9], ["client", 3, 3, 3], ["customer", 2, "x", 1]])
    with pytest.raises(CommandError) as exc:
        call_command("analyse_csv", str(path))
    message = str(exc.value)
    assert "row 2" in message.lower() and "q3" in message
    assert "row 3" in message.lower() and "side" in message
    assert "row 4" in message.lower() and "q2" in message
