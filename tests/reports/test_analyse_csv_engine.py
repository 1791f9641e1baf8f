"""`manage.py analyse_csv` is the gap engine on a file: a wave's own export gives the wave's numbers."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from reports import services
from surveys import models as m
from surveys import releases
from surveys import services as survey_services
from tests import factories as f
from tests.gap.conftest import build_instrument, fill_wave

ITEMS = "c1,c2,c3,s1,s2"
DIMENSIONS = ["--dimension", "culture=c1,c2,c3", "--dimension", "speed=s1,s2"]
# What a file cannot know: the instrument's wording, order and headline, and (no segments) nothing is withheld.
WORDING = {"staff_text", "customer_text", "dimension_name", "construct", "order", "is_headline", "name", "withheld"}


def _same(got, want, path: str = "") -> list[str]:
    """Every difference between two JSON values (floats to 1e-12), as readable paths."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not a dict"]
        out = [f"{path}.{key}: missing" for key in want if key not in got]
        for key in want:
            if key in got and key not in WORDING:
                out += _same(got[key], want[key], f"{path}.{key}")
        return out
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {got!r} != {want!r}"]
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True)) for d in _same(g, w, f"{path}[{i}]")]
    if isinstance(want, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return [] if got == pytest.approx(want, rel=1e-12, abs=1e-15) else [f"{path}: {got!r} != {want!r}"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


@pytest.fixture
def exported_wave(db, tmp_path):
    """A wave answered through the services, published, and exported by `manage.py export_responses`."""
    org = f.OrganizationFactory()
    wave = survey_services.wave_create(organization=org, instrument=build_instrument(org), name="H2", slug="csv-h2")
    survey_services.wave_open(wave=wave)
    fill_wave(wave, seed=11, n_staff=40, n_customer=70, departments=("Sales", "Support"))
    releases.publish_due(wave)
    path = tmp_path / "export.csv"
    call_command("export_responses", "--wave", wave.slug, "--format", "csv", "--out", str(path))
    return wave, path


def test_analyse_csv_of_a_waves_export_gives_the_engines_result_for_the_wave(exported_wave, tmp_path):
    wave, path = exported_wave
    expected = services.gap_analysis(wave=wave)
    # The comparison is only fair if the wave's disclosure withholds nothing (a file is one block per side).
    answers = [row[key] for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
               for key in ITEMS.split(",")]
    assert len(answers) == 110 * 5 and not any("withheld" in cell for cell in answers)
    assert all(not any(e["withheld"].values()) for e in [*expected["items"], *expected["dimensions"]])

    out = tmp_path / "out.json"
    call_command("analyse_csv", str(path), "--items", ITEMS, "--reverse", "c3", *DIMENSIONS, "--k-min", "5",
                 "--format", "json", "--out", str(out))
    got = json.loads(out.read_text(encoding="utf-8"))

    # The engine's result, whole: every item and dimension statistic, status, family and class, and alpha; and
    # what the command adds about the file.
    assert set(got) == set(expected) | {"file", "skipped"}
    assert got["skipped"] == [] and got["file"]["items"] == ITEMS.split(",")
    assert [i["key"] for i in got["items"]] == [i["key"] for i in expected["items"]]
    assert _same(got["items"], expected["items"]) == []
    assert [d["key"] for d in got["dimensions"]] == ["culture", "speed"]
    assert _same(got["dimensions"], expected["dimensions"]) == []
    assert _same(got["overall"], expected["overall"]) == []
    assert got["response_counts"] == expected["response_counts"]
    assert got["thresholds"] == expected["thresholds"]
    # The decisive numbers, named (the comparison above covers them; this says what they are).
    culture = next(d for d in got["dimensions"] if d["key"] == "culture")
    want = next(d for d in expected["dimensions"] if d["key"] == "culture")
    for path_ in (("gap",), ("welch", "ci_low"), ("welch", "ci_high"), ("welch", "p"), ("p_adjusted", "welch_holm"),
                  ("classification", "class"), ("report_status",), ("alpha", "staff", "listwise")):
        g, w = culture, want
        for key in path_:
            g, w = g[key], w[key]
        assert g is not None and g == (pytest.approx(w, rel=1e-12) if isinstance(w, float) else w), path_
    # What a file does not have is empty, not invented.
    assert got["outcomes"] == [] and got["churn"] is None and got["did"] is None and got["headline"] is None
    assert got["response_rates"] is None and got["release"] == {}
    assert got["segments"] == {"staff": [], "customer": []}
    assert got["wave"]["name"] == "export.csv"


def test_the_csv_and_table_of_a_file_are_the_engine_result_through_gap_export(exported_wave, tmp_path):
    from reports.gap_export import gap_rows, rows_to_csv

    wave, path = exported_wave
    buf = io.StringIO()
    call_command("analyse_csv", str(path), "--items", ITEMS, "--reverse", "c3", *DIMENSIONS, "--format", "csv",
                 stdout=buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    expected = list(csv.DictReader(io.StringIO(rows_to_csv(gap_rows(services.gap_analysis(wave=wave))))))
    assert rows == expected
    text = io.StringIO()
    call_command("analyse_csv", str(path), "--items", ITEMS, "--reverse", "c3", *DIMENSIONS, stdout=text)
    assert text.getvalue().startswith("export.csv — staff n=40, customers n=70")


def _write(tmp_path, header, rows, name="file.csv"):
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _analyse(path, *args) -> dict:
    """The command's JSON. The tests that call it without the database prove a file source reads none
    (pytest-django fails any query of a test that did not ask for the database)."""
    buf = io.StringIO()
    call_command("analyse_csv", str(path), *args, "--format", "json", stdout=buf)
    return json.loads(buf.getvalue())


def test_the_command_calls_the_engines_public_entry(tmp_path, monkeypatch):
    """No second pipeline: the numbers come from reports.services.gap_analysis_of."""
    rng = np.random.default_rng(3)
    path = _write(tmp_path, ["side", "q1", "q2"],
                  [["staff", *rng.integers(1, 6, 2)] for _ in range(8)]
                  + [["customer", *rng.integers(1, 6, 2)] for _ in range(9)])
    calls = []
    real = services.gap_analysis_of

    def spy(source, **kwargs):
        calls.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(services, "gap_analysis_of", spy)
    result = _analyse(path, "--dimension", "both=q1,q2")
    assert len(calls) == 1
    assert result["items"][0]["classification"]["class"] is not None
    assert result["dimensions"][0]["alpha"]["staff"]["n_complete"] == 8


def test_a_side_under_k_is_suppressed_whole_and_its_count_is_not_told(tmp_path):
    path = _write(tmp_path, ["side", "q1", "q2"],
                  [["staff", 4, 5], ["staff", 5, 4], ["staff", 3, 3], ["staff", 4, 4]]
                  + [["customer", v, 6 - v] for v in (1, 2, 3, 4, 5, 2, 3)])
    result = _analyse(path, "--dimension", "both=q1,q2")
    assert result["response_counts"] == {"staff": None, "customer": 7}
    assert {i["report_status"] for i in result["items"]} == {"suppressed_anonymity"}
    for entry in [*result["items"], *result["dimensions"], result["overall"]]:
        assert entry["n_staff"] is None and entry["mean_staff"] is None and entry["gap"] is None
    assert result["dimensions"][0]["alpha"]["staff"]["listwise"] is None
    assert result["dimensions"][0]["alpha"]["staff"]["ci_low"] is None
    assert result["dimensions"][0]["alpha"]["staff"]["ci_high"] is None


def test_alpha_and_its_feldt_interval_of_a_file_with_skipped_items_equal_the_hand_computation(tmp_path):
    """docs/methods.md §3.3: df from the respondents who answered all three items, not from every row."""
    from tests.stats import reliability_sample as sample

    def cells(side, rows):
        return [[side, *("na" if v is None else v for v in r)] for r in rows]

    path = _write(tmp_path, ["side", "a", "b", "c"], cells("staff", sample.STAFF) + cells("customer", sample.CUSTOMER))
    result = _analyse(path, "--dimension", "abc=a,b,c")
    dim = result["dimensions"][0]
    assert dim["report_status"] == "ok_low_base"
    for side in ("staff", "customer"):
        want = sample.EXPECTED[side]
        got = dim["alpha"][side]
        assert got["n_complete"] == want["n_complete"] and got["status"] == "low_base"
        assert got["listwise"] == pytest.approx(want["alpha"], rel=1e-12)
        assert got["ci_low"] == pytest.approx(want["ci_low"], rel=1e-12)
        assert got["ci_high"] == pytest.approx(want["ci_high"], rel=1e-12)
    # The table of the command prints each side's alpha with its interval and complete cases.
    buf = io.StringIO()
    call_command("analyse_csv", str(path), "--dimension", "abc=a,b,c", stdout=buf)
    text = buf.getvalue()
    assert "0.90 [0.71, 0.97] n=11" in text and "0.87 [0.62, 0.97] n=10" in text


def test_an_item_fewer_than_k_staff_answered_gives_no_staff_number(tmp_path):
    """The engine's per-unit rule (docs/anonymity.md P2): the side's block gave fewer than k answers to q2."""
    staff = [["staff", 4, "na" if i >= 3 else 5] for i in range(6)]
    path = _write(tmp_path, ["side", "q1", "q2"], staff + [["customer", 3, 2]] * 3 + [["customer", 2, 3]] * 3)
    result = _analyse(path, "--dimension", "both=q1,q2")
    q1, q2 = result["items"]
    assert q1["n_staff"] == 6 and q1["report_status"] != "no_data"
    assert q2["n_staff"] is None or q2["n_staff"] == 0
    assert q2["mean_staff"] is None and q2["gap"] is None and q2["withheld"]["staff"] == 3
    # The dimension needs every item released in the block: q2 is not, so no staff score either.
    assert result["dimensions"][0]["gap"] is None


def test_a_seven_point_file_with_reverse_keying_and_an_undimensioned_item(tmp_path):
    rng = np.random.default_rng(5)
    staff = rng.integers(1, 8, size=(12, 3))
    cust = rng.integers(1, 8, size=(15, 3))
    path = _write(tmp_path, ["side", "a", "b", "c"], [["staff", *r] for r in staff] + [["customer", *r] for r in cust])
    result = _analyse(path, "--scale", "7", "--reverse", "b", "--topbox", "6,7", "--dimension", "ab=a,b")
    a, b, c = result["items"]
    assert b["reverse_keyed"] is True and b["levels"] == list(range(1, 8))
    assert b["mean_staff"] == pytest.approx((8 - staff[:, 1]).mean(), rel=1e-12)
    assert c["dimension"] is None and a["dimension"] == "ab"
    assert a["topbox"]["x_staff"] == int(np.isin(staff[:, 0], (6, 7)).sum())
    scores = lambda x: (x[:, 0] + 8 - x[:, 1]) / 2  # noqa: E731
    assert result["dimensions"][0]["gap"] == pytest.approx(scores(staff).mean() - scores(cust).mean(), rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (["--k-min", "2"], "below 3"),
    (["--dimension", "x=q1,nope"], "--dimension 'x=q1,nope'"),
    (["--topbox", "5,6"], "--topbox"),
    (["--items", "q1,zz"], "--items: no column matches 'zz'"),
    (["--items", "side"], "--items: side is the side column"),
    (["--reverse", "q9"], "--reverse: q9 is not an item column"),
    (["--weight", "w"], "--weight: column 'w' not found"),
    (["--segment", "staff:dept"], "--segment: column 'dept' not found"),
    (["--side-column", "group"], "Column 'group' not found"),
])
def test_bad_options_are_command_errors(tmp_path, args, message):
    path = _write(tmp_path, ["side", "q1"], [["staff", 3]] * 5 + [["customer", 4]] * 5)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _analyse(path, *args)


def test_two_files_give_the_change_of_each_gap_through_the_same_entry():
    """What `--compare` with an earlier file (issue 17) will call: the engine's DiD, per item and dimension."""
    from reports.file_source import FileLayout, file_source
    from reports.stats.did import did_from_counts
    from surveys import errors

    rng = np.random.default_rng(9)
    layout = FileLayout(items=("q1", "q2"), dimensions=(("d", ("q1", "q2")),))

    def rows(shift: int) -> list[tuple[int, dict[str, str]]]:
        data = [("staff", rng.integers(2 + shift, 6, 2)) for _ in range(12)] + [
            ("customer", rng.integers(1, 5, 2)) for _ in range(20)]
        return [(n, {"side": side, "q1": str(a), "q2": str(b)}) for n, (side, (a, b)) in enumerate(data, start=2)]

    before_rows, now_rows = rows(0), rows(1)
    before, now = file_source(before_rows, layout, name="h1.csv"), file_source(now_rows, layout, name="h2.csv")
    result = services.gap_analysis_of(now, compare=before)
    assert result["did"]["compare_wave"] == {"id": None, "name": "h1.csv"}
    q1 = next(e for e in result["did"]["items"] if e["key"] == "q1")

    def counts(data, side):
        values = [int(r["q1"]) for _, r in data if r["side"] == side]
        return [values.count(v) for v in range(1, 6)]

    expected = did_from_counts(counts(before_rows, "staff"), counts(before_rows, "customer"), counts(now_rows, "staff"),
                               counts(now_rows, "customer"), [1, 2, 3, 4, 5], k_min_staff=5, k_min_customer=5)
    assert q1["did"] == pytest.approx(expected["did"], rel=1e-12) and q1["p"] == pytest.approx(expected["p"])
    assert [e["key"] for e in result["did"]["dimensions"]] == ["d"]
    # A file has no segment fields: a filter on one is the engine's 400, naming the side.
    with pytest.raises(errors.ValidationFailed) as exc:
        services.gap_analysis_of(now, staff_filter={"department": "Sales"})
    assert "staff" in exc.value.field_errors


def test_the_wave_entry_still_reads_the_wave(db):
    """gap_analysis(wave=...) is the wave's source through the same entry (its numbers: tests/gap)."""
    wave = f.WaveFactory(status=m.WaveStatus.OPEN)
    result = services.gap_analysis(wave=wave)
    assert result["wave"]["id"] == wave.pk and result["response_rates"] is not None
