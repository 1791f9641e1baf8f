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


def test_the_gap_command_gives_the_engines_bootstrap_intervals_and_each_sides_alpha(gap_wave):
    """--bootstrap (docs/methods.md §2.6) and the alpha columns (§3.3): the CSV carries the engine's numbers."""
    wave, _ = gap_wave
    buf = io.StringIO()
    call_command("gap", "--wave", wave.slug, "--format", "csv", "--bootstrap", "percentile",
                 "--bootstrap-reps", "1000", stdout=buf)
    rows = {(r["level"], r["key"]): r for r in csv.DictReader(io.StringIO(buf.getvalue()))}
    result = services.gap_analysis(wave=wave, bootstrap="percentile", bootstrap_reps=1000)
    for item in result["items"]:
        row = rows[("item", item["key"])]
        assert row["boot_method"] == "percentile"
        for stat in ("gap", "cliffs_delta", "topbox_diff"):
            for end in ("ci_low", "ci_high"):
                assert float(row[f"boot_{stat}_{end}"]) == pytest.approx(item["bootstrap"][stat][end], rel=1e-12)
    for dim in result["dimensions"]:
        row = rows[("dimension", dim["key"])]
        assert row["boot_method"] == ""
        for side in ("staff", "customer"):
            assert float(row[f"alpha_{side}_ci_low"]) == pytest.approx(dim["alpha"][side]["ci_low"], rel=1e-12)
            assert int(row[f"alpha_{side}_n_complete"]) == dim["alpha"][side]["n_complete"]
    text = io.StringIO()
    call_command("gap", "--wave", wave.slug, "--bootstrap", "bca", stdout=text)
    assert "Bootstrap 95% CIs (bca, 2000 resamples, seed 0)" in text.getvalue()
    assert "Cronbach's alpha (listwise; Feldt 95% CI" in text.getvalue()
    for fmt in ("csv", "table"):  # without --bootstrap nothing of it is printed
        plain = io.StringIO()
        call_command("gap", "--wave", wave.slug, "--format", fmt, stdout=plain)
        assert "boot" not in plain.getvalue().lower()


@pytest.mark.parametrize("args, message", [
    (["--bootstrap", "bca", "--bootstrap-reps", "10"], "bootstrap_reps"),
    (["--bootstrap-reps", "2000"], "bootstrap_reps"),
])
def test_the_gap_command_names_a_bad_bootstrap(gap_wave, args, message):
    wave, _ = gap_wave
    with pytest.raises(CommandError, match=message):
        call_command("gap", "--wave", wave.slug, *args)


def test_analyse_csv_names_a_bad_bootstrap_before_reading_the_file(tmp_path):
    with pytest.raises(CommandError, match="--bootstrap-reps: A whole number from 1000 to 20000"):
        call_command("analyse_csv", str(tmp_path / "missing.csv"), "--bootstrap", "bca", "--bootstrap-reps", "5")


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
        call_command("analyse_csv", str(path), "--items", "q1,q2,q3")
    message = str(exc.value)
    assert "row 2" in message.lower() and "q3" in message
    assert "row 3" in message.lower() and "side" in message
    assert "row 4" in message.lower() and "q2" in message
    # Without --items, the columns with such cells are not items, and the list says why on standard error.
    err = io.StringIO()
    with pytest.raises(CommandError, match="Row 3, column 'side': 'client' is neither"):
        call_command("analyse_csv", str(path), stderr=err)
    assert "q2: not an answer of the 5-point scale: 'x' in row 4" in err.getvalue()
    assert "q3: not an answer of the 5-point scale: '9' in row 2" in err.getvalue()


def test_the_gap_table_shows_the_change_since_the_compared_wave(gap_wave, earlier_wave):
    wave, _ = gap_wave
    buf = io.StringIO()
    call_command("gap", "--wave", wave.slug, "--compare", earlier_wave.slug, stdout=buf)
    text = buf.getvalue()
    result = services.gap_analysis(wave=wave, compare_wave=earlier_wave)
    assert "Change since H1 earlier" in text
    culture = next(d for d in result["did"]["dimensions"] if d["key"] == "culture")
    line = next(line for line in text.splitlines() if line.startswith("dimension") and " culture " in line
                and f"{culture['did']:+.2f}" in line)
    assert f"{culture['gap_wave1']:+.2f}" in line and f"{culture['gap_wave2']:+.2f}" in line
    assert f"[{culture['ci_low']:+.2f}, {culture['ci_high']:+.2f}]" in line
    assert len([line for line in text.splitlines() if line.startswith("item ")]) == 2 * len(result["items"])


def test_the_gap_csv_carries_the_change_since_the_compared_wave(gap_wave, earlier_wave):
    wave, _ = gap_wave
    buf = io.StringIO()
    call_command("gap", "--wave", wave.slug, "--compare", earlier_wave.slug, "--format", "csv", stdout=buf)
    rows = {(r["level"], r["key"]): r for r in csv.DictReader(io.StringIO(buf.getvalue()))}
    result = services.gap_analysis(wave=wave, compare_wave=earlier_wave)
    for level, entries in (("item", result["did"]["items"]), ("dimension", result["did"]["dimensions"])):
        assert entries
        for entry in entries:
            row = rows[(level, entry["key"])]
            for column, value in (("gap_before", entry["gap_wave1"]), ("gap_now", entry["gap_wave2"]),
                                  ("change", entry["did"]), ("change_ci_low", entry["ci_low"]),
                                  ("change_ci_high", entry["ci_high"]), ("change_p", entry["p"])):
                assert (row[column] == "") if value is None else float(row[column]) == pytest.approx(value)
    # Without --compare the columns are not there at all.
    plain = io.StringIO()
    call_command("gap", "--wave", wave.slug, "--format", "csv", stdout=plain)
    assert "gap_before" not in plain.getvalue().splitlines()[0]


def test_the_gap_table_prints_full_keys_and_readable_p_values():
    from reports.gap_export import rows_to_text

    long_key = "customer-success-is-everyones-job-not-only-cs"
    entry = {"key": long_key, "dimension": "culture", "report_status": "ok", "n_staff": 20, "n_customer": 30,
             "mean_staff": 4.0, "mean_customer": 3.0, "gap": 1.0, "welch": {"ci_low": 0.5, "ci_high": 1.5, "p": 1e-6},
             "p_adjusted": {"welch_bh": 0.0000123, "welch_holm": 0.0001}, "classification": {"class": "blind_spot"}}
    other = {**entry, "key": "c2", "p_adjusted": {"welch_bh": 0.012345, "welch_holm": 0.5}}
    result = {"wave": {"name": "H2"}, "response_counts": {"staff": 20, "customer": 30}, "items": [entry, other],
              "dimensions": []}
    text = rows_to_text(result)
    lines = text.splitlines()
    row = next(line for line in lines if long_key in line)
    assert "<0.001" in row
    assert "0.0123" in next(line for line in lines if " c2 " in line)
    # The columns line up: the key column is as wide as the longest key.
    assert next(line for line in lines if " c2 " in line).index("4.00") == row.index("4.00")
    from reports.gap_export import fmt_p_value

    assert fmt_p_value(0.5) == "0.500" and fmt_p_value(0.0004) == "<0.001" and fmt_p_value(None) == "—"
    assert fmt_p_value(1.0) == "1.00"
