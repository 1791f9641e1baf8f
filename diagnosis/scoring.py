"""Scoring of a diagnosis: pure functions of the answers (docs/diagnosis.md, "Scoring").

* An answer a on the 1–5 agreement scale is worth (a − 1) / 4 × 100 points (1 → 0, 5 → 100).
* The maturity of an element or an area is the mean of the points of its statements, rounded to one
  decimal. A statement tagged with two areas counts fully in each.
* The bands: below 25 "starting", below 50 "developing", below 75 "established", else "leading".
* The two weakest areas: the lowest maturity first; a tie goes to the area whose lowest single answer is
  lower (it holds the sharper problem), then to the area that comes first in the questionnaire (the
  earlier principles are the foundations of the later ones).

Every answer is required: a diagnosis with gaps would not be comparable with another one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diagnosis.questions import AREAS, ELEMENTS, ITEMS, SCALE_MAX, SCALE_MIN

# (lower bound, key); a score belongs to the last band whose bound it reaches.
BANDS: tuple[tuple[float, str], ...] = ((0.0, "starting"), (25.0, "developing"), (50.0, "established"),
                                        (75.0, "leading"))
BAND_LABELS = {
    "starting": {"ja": "着手前", "en": "Starting"},
    "developing": {"ja": "発展途上", "en": "Developing"},
    "established": {"ja": "定着", "en": "Established"},
    "leading": {"ja": "先進", "en": "Leading"},
}

# The problem codes of one answer (the service words them; the HTML form translates them).
MISSING = "missing"
NOT_A_NUMBER = "not_a_number"
OUT_OF_RANGE = "out_of_range"
UNKNOWN = "unknown_item"


def points(answer: int) -> float:
    """One answer's points on the 0–100 scale."""
    return (answer - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * 100.0


def band(score: float) -> str:
    key = BANDS[0][1]
    for bound, name in BANDS:
        if score >= bound:
            key = name
    return key


def band_label(key: str, language: str) -> str:
    return BAND_LABELS[key]["ja" if language == "ja" else "en"]


def check_answers(raw: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """The answers as whole numbers 1–5 per item key, and the problem code of every item that has one.

    Accepts ints and digit strings (a posted form); refuses booleans, fractions, other scales, and keys
    that are not items of the questionnaire.
    """
    clean: dict[str, int] = {}
    problems: dict[str, str] = {}
    for key in raw:
        if key not in {item.key for item in ITEMS}:
            problems[str(key)[:40]] = UNKNOWN
    for item in ITEMS:
        value = raw.get(item.key)
        if value is None or value == "":
            problems[item.key] = MISSING
            continue
        if isinstance(value, bool):
            problems[item.key] = NOT_A_NUMBER
            continue
        if isinstance(value, str):
            text = value.strip()
            if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 3:
                problems[item.key] = NOT_A_NUMBER
                continue
            value = int(text)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            problems[item.key] = NOT_A_NUMBER
            continue
        if not SCALE_MIN <= value <= SCALE_MAX:
            problems[item.key] = OUT_OF_RANGE
            continue
        clean[item.key] = value
    return clean, problems


def _mean_points(answers: Mapping[str, int], keys: list[str]) -> float:
    return round(sum(points(answers[k]) for k in keys) / len(keys), 1)


@dataclass(frozen=True)
class Scores:
    elements: dict[str, float]
    areas: dict[str, float]

    def as_json(self) -> dict[str, dict[str, float]]:
        return {"elements": dict(self.elements), "areas": dict(self.areas)}


def score(answers: Mapping[str, int]) -> Scores:
    """Maturity 0–100 per element and per area from a complete set of checked answers."""
    elements = {e.key: _mean_points(answers, [i.key for i in ITEMS if i.element == e.key]) for e in ELEMENTS}
    areas = {a.key: _mean_points(answers, [i.key for i in ITEMS if a.key in i.areas]) for a in AREAS}
    return Scores(elements=elements, areas=areas)


def weakest_areas(answers: Mapping[str, int], areas: Mapping[str, float], n: int = 2) -> list[str]:
    """The keys of the ``n`` weakest areas, by the tie-break of the module docstring."""
    order = {area.key: i for i, area in enumerate(AREAS)}

    def lowest_answer(key: str) -> int:
        return min(answers[i.key] for i in ITEMS if key in i.areas)

    return sorted(areas, key=lambda key: (areas[key], lowest_answer(key), order[key]))[:n]
