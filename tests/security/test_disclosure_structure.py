"""Every reader of responses goes through the disclosure layer: a new output that reads them directly fails here.

Static, over the source: each place that queries responses or answers is listed with why it may, and
reads of data that leave Kagami must filter on publication (``release``) and take their verdicts from
:mod:`surveys.disclosure`. A new query of responses elsewhere makes this test fail until it is reviewed
and added (with the reason) — that is the point.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = re.compile(r"\b(SurveyResponse\.objects|Answer\.objects|InvitationUse\.objects|\.responses\.(filter|all|"
                   r"count|values|aggregate|exclude))")

# module → why it may query responses or answers
ALLOWED = {
    "surveys/releases.py": "publishes: stamps waiting responses (the P4 decision is surveys.disclosure.release_due)",
    "surveys/microdata.py": "the one reader of rows that leave (published only, verdicts of surveys.disclosure)",
    "surveys/exports.py": "customer rows through microdata.published_responses; staff rows through microdata",
    "surveys/selectors.py": "response_list (published, microdata verdicts in the serializer); wave_counts "
                            "(published counts only)",
    "reports/selectors.py": "response rates: published counts per side, never per person",
    "reports/counts/groupby.py": "count tables of published responses, then reports.disclosed applies the verdicts",
    "reports/counts/pgcopy.py": "the same rows in one COPY (published only), tallied by reports/counts/onepass.py, "
                                "tested equal to reports/counts/groupby.py",
    "reports/counts/rowread.py": "the same rows through the ORM (published only), tallied by "
                                 "reports/counts/onepass.py, tested equal to reports/counts/groupby.py",
    "reports/counts/version.py": "the data fingerprint of a wave: a cache key, never shown",
    "reports/jobs.py": "a cache fingerprint of the published data (never shown)",
    "surveys/services/responses.py": "writes (submission, invitation use)",
    "surveys/services/waves.py": "the published staff count in an audit event",
    "surveys/bulk.py": "writes (COPY loader)",
    "surveys/imports/responses.py": "the duplicate guard: which customer response ids of a file are the wave's own (an "
                          "export imported back); staff responses are never looked up",
    "surveys/demo.py": "writes and deletes the demo; its printed summary counts the demo's own data",
    "surveys/management/commands/export_responses.py": "the published count for its progress bar",
    "surveys/api/views.py": "empty querysets for the schema (SurveyResponse.objects.none())",
}


def _sources() -> list[Path]:
    return [p for d in ("surveys", "reports", "backend") for p in (ROOT / d).rglob("*.py")
            if "migrations" not in p.parts]


def test_only_reviewed_modules_query_responses_or_answers():
    found: dict[str, list[str]] = {}
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if QUERY.search(line) and not line.lstrip().startswith("#"):
                found.setdefault(rel, []).append(f"{number}: {line.strip()}")
    unreviewed = {rel: lines for rel, lines in found.items() if rel not in ALLOWED}
    assert unreviewed == {}, "responses read outside the disclosure layer's reviewed readers"
    assert set(found) >= {"surveys/microdata.py", "reports/counts/groupby.py", "reports/counts/version.py"}


def test_every_reader_that_lets_data_out_reads_published_responses_only():
    for rel in ("surveys/microdata.py", "reports/selectors.py", "reports/counts/groupby.py", "surveys/selectors.py",
                "reports/counts/version.py", "reports/counts/rowread.py"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        for match in re.finditer(r"(SurveyResponse|Answer)\.objects\.filter\(([^)]*)\)", text, re.S):
            call = match.group(2)
            line = text[:match.start()].count("\n") + 1
            if "release" in call:
                continue
            if rel == "reports/counts/groupby.py" and call.strip().startswith("_scope("):
                continue  # the GROUP BY reader's one scope, itself published-only (asserted below)
            # The fingerprint reads every response on purpose: a cache key, never shown.
            assert rel == "reports/counts/version.py" and "aggregate" in text[match.end():match.end() + 20], (rel, line)


def test_the_group_by_readers_scope_is_published_responses_only():
    text = (ROOT / "reports/counts/groupby.py").read_text(encoding="utf-8")
    scope = text[text.index("def _scope("):text.index("return scope")]
    assert 'release__isnull": False' in scope


def test_the_outputs_take_their_verdicts_from_the_one_decision_module():
    for rel in ("reports/disclosed.py", "surveys/microdata.py", "surveys/releases.py"):
        assert "from surveys import disclosure" in (ROOT / rel).read_text(encoding="utf-8"), rel
    services = (ROOT / "reports/services.py").read_text(encoding="utf-8")
    assert "disclose(" in services and "complementary_suppression" not in services
    decision = (ROOT / "surveys/disclosure.py").read_text(encoding="utf-8")
    assert "django" not in decision, "the decision module is pure: no ORM, no Django"
