"""The response table carries no index that another index already covers: each one is a write on every post.

An index whose columns are the leading columns of another (non-partial, plain b-tree) index answers no query the
longer one cannot, so it only costs an index insertion per posted and per bulk-loaded response (bench/NOTES.md).
"""

from __future__ import annotations

import pytest
from django.db import connection

TABLES = ("surveys_surveyresponse",)


def _plain_indexes(table: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Each plain b-tree index of ``table`` (no expression, no predicate): its columns and whether it is unique."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indisunique,
                   array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = %s::regclass AND am.amname = 'btree' AND i.indpred IS NULL
              AND i.indexprs IS NULL
            """,
            [table],
        )
        return {name: (tuple(columns), unique) for name, unique, columns in cursor.fetchall()}


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_no_index_is_the_leading_part_of_another(table):
    indexes = _plain_indexes(table)
    assert "response_release_idx" in indexes and indexes["response_release_idx"][0] == ("wave_id", "side", "release")
    covered = [
        (name, other)
        for name, (columns, unique) in indexes.items()
        for other, (longer, _) in indexes.items()
        # A unique index is a rule, not only a search path: it stays even when a longer index leads with it.
        if other != name and not unique and longer[: len(columns)] == columns
    ]
    assert covered == [], f"indexes covered by a longer one (each costs a write per response): {covered}"


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_wave_s_responses_are_found_by_the_release_index():
    from surveys.models import SurveyResponse

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = SurveyResponse.objects.filter(wave_id=1).values_list("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "response_release_idx" in plan, plan
