"""The scoring, computed by hand (no database)."""

from __future__ import annotations

import pytest

from diagnosis import scoring
from diagnosis.questions import AREA_KEYS, AREAS, ELEMENTS, ITEMS, MIRROR_DIMENSIONS
from tests.diagnosis.conftest import ANSWERS

pytestmark = pytest.mark.no_database


def test_the_questionnaire_has_three_elements_ten_areas_and_every_area_asked():
    assert len(ELEMENTS) == 3 and len(AREAS) == 10 and 12 <= len(ITEMS) <= 15
    for area in AREAS:
        assert any(area.key in item.areas for item in ITEMS), area.key
        assert 2 <= len(area.steps_ja) == len(area.steps_en) <= 3, area.key
    for element in ELEMENTS:
        assert sum(item.element == element.key for item in ITEMS) == 5
    assert set(MIRROR_DIMENSIONS) == set(AREA_KEYS)
    assert all(item.text_ja and item.text_en for item in ITEMS)


def test_points_run_from_0_to_100():
    assert [scoring.points(a) for a in (1, 2, 3, 4, 5)] == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_element_and_area_scores_by_hand():
    scores = scoring.score(ANSWERS)
    # philosophy q01–q05: 4, 2, 5, 3, 1 → 75, 25, 100, 50, 0 → 250 / 5 = 50
    # team q06–q10: 4, 4, 2, 3, 5 → 75, 75, 25, 50, 100 → 65
    # technology q11–q15: 1, 2, 3, 4, 5 → 0, 25, 50, 75, 100 → 50
    assert scores.elements == {"philosophy": 50.0, "team": 65.0, "technology": 50.0}
    assert scores.areas == {
        "right_fit": 75.0,      # q03 100, q04 50
        "value": 62.5,          # q08 25, q10 100
        "proactive": 37.5,      # q09 50, q12 25
        "health": 12.5,         # q11 0, q12 25
        "company_wide": 50.0,   # q02 25, q04 50, q07 75
        "outcomes": 87.5,       # q06 75, q10 100
        "data": 87.5,           # q14 75, q15 100
        "leadership": 75.0,     # q01 75, q07 75
        "improvement": 50.0,    # q05 0, q15 100
        "scale": 50.0,          # q13 50
    }
    assert scoring.weakest_areas(ANSWERS, scores.areas) == ["health", "proactive"]


def test_scores_round_to_one_decimal():
    answers = dict.fromkeys(ANSWERS, 5) | {"q02": 4, "q04": 4}
    # company_wide: q02 75, q04 75, q07 100 → 83.33… → 83.3
    assert scoring.score(answers).areas["company_wide"] == 83.3


def test_the_tie_break_is_the_lower_single_answer_then_questionnaire_order():
    answers = dict.fromkeys(ANSWERS, 4)
    answers.update(q05=1, q15=5)             # improvement: 0 and 100 → 50, lowest answer 1
    answers.update(q13=3)                    # scale: 50, lowest answer 3
    answers.update(q14=3, q15=5)             # data: 50 and 100 → 75
    areas = scoring.score(answers).areas
    assert areas["improvement"] == areas["scale"] == 50.0
    assert scoring.weakest_areas(answers, areas) == ["improvement", "scale"]
    # Same score and same lowest answer: the earlier area in the questionnaire comes first.
    flat = dict.fromkeys(ANSWERS, 3)
    assert scoring.weakest_areas(flat, scoring.score(flat).areas) == ["right_fit", "value"]


@pytest.mark.parametrize(("score", "band"), [(0, "starting"), (24.9, "starting"), (25, "developing"),
                                             (49.9, "developing"), (50, "established"), (74.9, "established"),
                                             (75, "leading"), (100, "leading")])
def test_bands(score, band):
    assert scoring.band(score) == band


def test_check_answers_names_every_problem():
    raw = dict(ANSWERS) | {"q01": "4", "q02": 0, "q03": 6, "q04": True, "q05": 2.5, "q06": "x", "q07": "",
                           "q08": 3.0, "q99": 3}
    del raw["q09"]
    clean, problems = scoring.check_answers(raw)
    assert problems == {"q02": "out_of_range", "q03": "out_of_range", "q04": "not_a_number",
                        "q05": "not_a_number", "q06": "not_a_number", "q07": "missing", "q09": "missing",
                        "q99": "unknown_item"}
    assert clean["q01"] == 4 and clean["q08"] == 3


def test_check_answers_accepts_a_complete_set():
    clean, problems = scoring.check_answers({k: str(v) for k, v in ANSWERS.items()})
    assert problems == {} and clean == ANSWERS


def test_the_chart_prints_every_value_as_the_pages_do():
    from django.template import Context, Template

    from diagnosis.chart import maturity_chart, whole

    rows = [{"key": "a", "name": "A <b>", "score": 62.5, "band_label": "Established"}]
    svg = maturity_chart({"elements": rows, "areas": []}, title="T", desc_intro="D", elements_heading="E",
                         areas_heading="R")
    page = Template("{{ v|floatformat:0 }}").render(Context({"v": 62.5}))
    assert whole(62.5) == int(page) == 63 and "63 · Established" in svg
    assert "A &lt;b&gt;" in svg and "<b>" not in svg  # every text escaped
    assert "<title" in svg and "A &lt;b&gt;: 63 (Established)" in svg  # the values in words for screen readers
