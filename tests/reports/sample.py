"""A hand-written ``gap_analysis`` result of the documented shape, for rendering tests.

Numbers are plausible, not computed: the rendering tests check that what goes
in comes out, the statistics have their own tests (tests/stats/).
"""

from __future__ import annotations

import copy
from typing import Any

DIMENSIONS = [
    ("culture", "Customer-centric culture", "顧客中心の文化"),
    ("speed", "Speed", "スピード"),
    ("ease", "Ease", "手軽さ"),
]

# key, dimension, construct, staff en, staff ja, customer en, customer ja, gap, class
ITEMS = [
    ("culture-1", "culture", "Everyone owns customer success", "Everyone here owns customer success.",
     "顧客の成功は全員の責任だと考えている。", "Everyone at Mirror Corp cares about my success.",
     "ミラー株式会社の全員が私の成功を気にかけている。", 0.91, "blind_spot"),
    ("culture-2", "culture", "Customer voice in decisions", "Customer feedback shapes our decisions.",
     "顧客の声が意思決定に反映されている。", "Mirror Corp acts on my feedback.",
     "ミラー株式会社は私の意見に基づいて行動する。", 0.64, "blind_spot"),
    ("speed-1", "speed", "Fast answers", "We answer customers quickly.", "私たちは顧客にすばやく対応している。",
     "Mirror Corp answers me quickly.", "ミラー株式会社は私にすばやく対応してくれる。", 0.47, "blind_spot"),
    ("speed-2", "speed", "Fast fixes", "We fix problems fast.", "問題をすばやく解決している。",
     "Mirror Corp fixes my problems fast.", "ミラー株式会社は問題をすばやく解決してくれる。", 0.30, "blind_spot"),
    ("ease-1", "ease", "Little effort", "Working with us takes little effort.", "当社との取引は手間がかからない。",
     "Working with Mirror Corp takes little effort.", "ミラー株式会社との取引は手間がかからない。", -0.52,
     "hidden_strength"),
    ("ease-2", "ease", "Clear documentation", "Our documentation is clear.", "当社の資料はわかりやすい。",
     "Mirror Corp's documentation is clear.", "ミラー株式会社の資料はわかりやすい。", 0.05, "aligned"),
    ("headline", "culture", "Superior experience", "We deliver a superior experience.",
     "私たちは優れた体験を提供している。", "Mirror Corp delivers a superior experience to me.",
     "ミラー株式会社は私に優れた体験を提供している。", 1.12, "blind_spot"),
]


def _item(i: int, spec: tuple, language: str) -> dict[str, Any]:
    key, dim, construct, s_en, s_ja, c_en, c_ja, gap, cls = spec
    mean_c = 3.2 - 0.05 * i
    mean_s = round(mean_c + gap, 4)
    return {
        "key": key, "order": i, "dimension": dim,
        "dimension_name": next(d[1] if language == "en" else d[2] for d in DIMENSIONS if d[0] == dim),
        "construct": construct,
        "staff_text": s_en if language == "en" else s_ja,
        "customer_text": c_en if language == "en" else c_ja,
        "is_headline": key == "headline", "reverse_keyed": False, "levels": [1, 2, 3, 4, 5], "scale_points": 5,
        "n_staff": 40, "n_customer": 160,
        "counts_staff": [2, 4, 8, 16, 10], "counts_customer": [12, 28, 50, 46, 24],
        "mean_staff": mean_s, "mean_customer": mean_c, "sd_staff": 1.05, "sd_customer": 1.12,
        "gap": gap,
        "welch": {"t": gap / 0.19, "df": 62.3, "p": 0.0001 if abs(gap) > 0.25 else 0.79, "se": 0.19,
                  "ci_low": gap - 0.38, "ci_high": gap + 0.38, "ci90_low": gap - 0.32, "ci90_high": gap + 0.32},
        "cohen_d": gap / 1.1, "hedges_g": gap / 1.1 * 0.996,
        "mwu": {"U_staff": 4100.0, "U_customer": 2300.0, "sigma_U": 480.2, "p": 0.0002, "cliffs_delta": gap / 2.5,
                "rank_biserial": gap / 2.5, "cles": 0.5 + gap / 5},
        "topbox": {"levels": [4, 5], "x_staff": 26, "x_customer": 70, "p_staff": 0.65, "p_customer": 0.4375,
                   "diff": 0.2125, "newcombe_low": 0.0412, "newcombe_high": 0.3643, "z": 2.4, "p": 0.0164,
                   "fisher_p": 0.02, "test": "z", "p_primary": 0.0164,
                   "wilson_staff_low": 0.4952, "wilson_staff_high": 0.7797,
                   "wilson_customer_low": 0.3627, "wilson_customer_high": 0.5152},
        "p_adjusted": {"welch_bh": 0.0004 if abs(gap) > 0.25 else 0.79, "welch_holm": 0.0007, "mwu_bh": 0.0004,
                       "mwu_holm": 0.001, "topbox_bh": 0.03, "topbox_holm": 0.05},
        "report_status": "ok",
        "undefined": [],
        "classification": {"class": cls, "delta": 0.25, "hedges_g_magnitude": "medium",
                           "cliffs_delta_magnitude": "small"},
    }


def _dimension(i: int, key: str, name: str) -> dict[str, Any]:
    gap = [0.82, 0.39, -0.24][i]
    cls = ["blind_spot", "blind_spot", "inconclusive"][i]
    return {
        "key": key, "name": name, "order": i, "item_keys": [it[0] for it in ITEMS if it[1] == key],
        "n_staff": 40, "n_customer": 160, "n_scored_staff": 40, "n_scored_customer": 158,
        "mean_staff": 3.9 - 0.1 * i, "mean_customer": 3.9 - 0.1 * i - gap, "sd_staff": 0.8, "sd_customer": 0.9,
        "gap": gap,
        "welch": {"t": gap / 0.15, "df": 70.2, "p": 0.0001, "se": 0.15, "ci_low": gap - 0.3, "ci_high": gap + 0.3,
                  "ci90_low": gap - 0.25, "ci90_high": gap + 0.25},
        "cohen_d": gap / 0.87, "hedges_g": gap / 0.87 * 0.996,
        "mwu": {"U_staff": 4000.0, "U_customer": 2320.0, "sigma_U": 470.0, "p": 0.0003, "cliffs_delta": gap / 2.2,
                "rank_biserial": gap / 2.2, "cles": 0.6},
        "topbox": None,
        "p_adjusted": {"welch_bh": 0.0002, "welch_holm": [0.0003, 0.0123, 0.2871][i], "mwu_bh": 0.0005,
                       "mwu_holm": 0.0009, "topbox_bh": None, "topbox_holm": None},
        "report_status": "ok", "undefined": [],
        "classification": {"class": cls, "delta": 0.25, "hedges_g_magnitude": "large",
                           "cliffs_delta_magnitude": "medium"},
        "alpha": {"staff": {"listwise": [0.81, 0.74, 0.55][i], "pairwise": 0.8, "n_complete": 38, "status": "ok"},
                  "customer": {"listwise": [0.86, 0.79, 0.71][i], "pairwise": 0.85, "n_complete": 150,
                               "status": "ok"}},
    }


def _segment_dims(shift: float) -> dict[str, Any]:
    return {
        key: {"gap": round(g + shift, 4), "ci_low": g + shift - 0.4, "ci_high": g + shift + 0.4, "hedges_g": 0.5,
              "class": "blind_spot" if g + shift > 0.3 else "inconclusive", "report_status": "ok_low_base"}
        for key, g in (("culture", 0.82), ("speed", 0.39), ("ease", -0.24))
    }


def sample_analysis(language: str = "en", *, did: bool = True) -> dict[str, Any]:
    items = [_item(i, spec, language) for i, spec in enumerate(ITEMS)]
    dims = [_dimension(i, d[0], d[1] if language == "en" else d[2]) for i, d in enumerate(DIMENSIONS)]
    headline = next(it for it in items if it["is_headline"])
    headline["topbox"].update(p_staff=0.8, p_customer=0.08, diff=0.72, x_staff=32, x_customer=13,
                              wilson_staff_low=0.6531, wilson_staff_high=0.8950,
                              wilson_customer_low=0.0482, wilson_customer_high=0.1303,
                              newcombe_low=0.5689, newcombe_high=0.8251)
    analysis: dict[str, Any] = {
        "wave": {"id": 1, "name": "Autumn 2026", "slug": "autumn-2026", "status": "closed",
                 "opens_on": "2026-10-01", "closes_on": "2026-10-31",
                 "organization": {"id": 1, "name": "Mirror Corp",
                                  "company_name": "Mirror Corp" if language == "en" else "ミラー株式会社"},
                 "instrument": {"key": "kagami-core", "version": 1,
                                "name": "Kagami core" if language == "en" else "鏡コア"}},
        "filters": {"staff": {}, "customer": {}, "weighted": False, "compare_wave_id": 7 if did else None},
        "thresholds": {"staff_k_min": 5, "customer_k_min": 5},
        "response_counts": {"staff": 40, "customer": 160},
        # The engine's keys (reports.selectors.response_rates): staff have no answered_invitations by design.
        "response_rates": {"staff": {"invited": 52, "answered_invitations": None, "responses": 40, "rate": 40 / 52},
                           "customer": {"invited": 600, "answered_invitations": 160, "responses": 160,
                                        "rate": 160 / 600}},
        "items": items,
        "headline": headline,
        "dimensions": dims,
        "outcomes": [
            {"key": "nps", "kind": "nps", "text": "How likely are you to recommend Mirror Corp?", "n": 158,
             "mean": 6.9, "sd": 2.1, "counts": [1] * 11, "levels": list(range(11)),
             "nps": {"promoters": 0.31, "passives": 0.41, "detractors": 0.28, "score": 3.0}, "report_status": "ok"},
            {"key": "ces", "kind": "ces", "text": "Effort", "n": 150, "mean": 4.4, "sd": 1.3, "counts": [1] * 7,
             "levels": list(range(1, 8)), "nps": None, "report_status": "ok"},
        ],
        "segments": {
            "staff": {"department": [
                {"value": "Sales", "report_status": "ok_low_base", "n": 18, "dimensions": _segment_dims(0.3)},
                {"value": "Support", "report_status": "ok_low_base", "n": 19, "dimensions": _segment_dims(-0.1)},
                {"value": "Legal", "report_status": "suppressed_anonymity", "n": None, "dimensions": {}},
            ]},
            "customer": {"tier": [
                {"value": "Gold", "report_status": "ok", "n": 60, "dimensions": _segment_dims(0.2)},
                {"value": "Silver", "report_status": "ok", "n": 96, "dimensions": _segment_dims(-0.2)},
                {"value": "Platinum", "report_status": "suppressed_min_n", "n": None, "dimensions": {}},
            ]},
        },
        "did": None,
        "churn": {"n_churned": 21, "n_retained": 120, "comparisons": [
            {"measure": "culture", "mean_churned": 2.71, "mean_retained": 3.32, "diff": -0.61,
             "welch": {"t": -2.9, "df": 30.1, "p": 0.0068, "se": 0.21, "ci_low": -1.04, "ci_high": -0.18},
             "cliffs_delta": -0.33, "report_status": "ok_low_base"},
            {"measure": "nps", "mean_churned": 5.1, "mean_retained": 7.3, "diff": -2.2,
             "welch": {"t": -3.4, "df": 28.0, "p": 0.002, "se": 0.65, "ci_low": -3.5, "ci_high": -0.9},
             "cliffs_delta": -0.41, "report_status": "ok_low_base"},
        ]},
        "undefined": [],
    }
    if did:
        analysis["did"] = {
            "compare_wave": {"id": 7, "name": "Spring 2026"},
            "items": [{"key": "speed-1", "gap_wave1": 0.8, "gap_wave2": 0.47, "did": -0.33, "se": 0.14, "df": 300.0,
                       "t": -2.36, "p": 0.019, "ci_low": -0.6, "ci_high": -0.05, "report_status": "ok"}],
            "dimensions": [{"key": "speed", "gap_wave1": 0.61, "gap_wave2": 0.39, "did": -0.22, "se": 0.12,
                            "df": 310.0, "t": -1.83, "p": 0.068, "ci_low": -0.46, "ci_high": 0.02,
                            "report_status": "ok"}],
        }
    return copy.deepcopy(analysis)
