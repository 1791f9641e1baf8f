"""The release check every read makes (surveys.releases.publish_due) reads at most k waiting rows per side, in
the order of the (wave, side, release) index, whatever the database's estimates.

A plain COUNT was planned by PostgreSQL from the table's share of unreleased rows — a bulk load waiting in
another wave — as a parallel scan, costing 150-750 ms on every read of a loaded machine (make bench,
2026-12-07). The decision itself (at least k) is tested in tests/security/test_disclosure_releases.py.
"""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import releases, services
from surveys.models import SurveyResponse
from tests import factories as f


def _pending_checks(captured) -> list[str]:
    return [q["sql"] for q in captured if "surveys_surveyresponse" in q["sql"] and '"release" IS NULL' in q["sql"]
            and q["sql"].lstrip().upper().startswith("SELECT")]


def test_the_check_reads_at_most_k_rows_in_index_order_and_still_releases_at_k(db):
    wave = f.WaveFactory(anonymity_threshold=5, customer_threshold=5)
    services.wave_open(wave=wave)
    for _ in range(4):
        f.SurveyResponseFactory(wave=wave, side="customer")
    with CaptureQueriesContext(connection) as captured:
        releases.publish_due(wave)
    checks = _pending_checks(captured.captured_queries)
    assert len(checks) == 2  # one per side
    for sql in checks:
        assert "COUNT(" not in sql.upper()
        assert re.search(r"ORDER BY .*wave_id.*side.*release.* LIMIT 5\b", sql), sql
    assert not SurveyResponse.objects.filter(wave=wave, release__isnull=False).exists()  # 4 < k
    f.SurveyResponseFactory(wave=wave, side="customer")
    releases.publish_due(wave)
    assert SurveyResponse.objects.filter(wave=wave, side="customer", release=1).count() == 5
