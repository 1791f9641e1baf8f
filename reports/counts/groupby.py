"""The GROUP BY reader: every count table from SQL aggregate queries, on any database.

The database does the counting; Python receives only the grouped rows. This is
what SQLite uses, and the reference the PostgreSQL one-pass reader is tested
against (``tests/gap/test_onepass.py``): about sixty queries, several of them
self-joins of the answers, so far slower than one pass on a large wave.
"""

from __future__ import annotations

import pandas as pd
from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce

from reports.counts.tables import (
    PairMoments,
    ReleaseSpan,
    WaveCounts,
    account_sums_frame,
    accounts_from_sums,
    segment_column,
    segment_expression,
    table_segment_keys,
)
from surveys.models import Answer, ItemKind, ItemPair, Side, SurveyResponse, Wave


def _segment_annotations(wave: Wave, prefix: str) -> dict:
    return {segment_column(key): segment_expression(key, prefix) for key in table_segment_keys(wave)}


def _scope(wave: Wave, department: str | None, prefix: str, span: ReleaseSpan | None = None) -> Q:
    """The responses counted: the wave's published ones, or only those about one serving department (internal
    waves), or only those of a span of releases (:class:`ReleaseSpan`)."""
    scope = Q(**{f"{prefix}wave": wave, f"{prefix}release__isnull": False})
    if department is not None:
        scope &= Q(**{f"{prefix}served_department": department})
    if span is not None:
        scope &= Q(**{f"{prefix}side": Side.STAFF, f"{prefix}release__gt": span.after[Side.STAFF],
                      f"{prefix}release__lte": span.upto[Side.STAFF]}) | Q(
            **{f"{prefix}side": Side.CUSTOMER, f"{prefix}release__gt": span.after[Side.CUSTOMER],
               f"{prefix}release__lte": span.upto[Side.CUSTOMER]})
        if span.accounts is not None:
            scope &= Q(**{f"{prefix}customer_account_id__in": list(span.accounts)})
    return scope


def _weight_expr(prefix: str):
    # A customer without a weight counts as 1 in weighted views; staff are never weighted.
    return Coalesce(F(f"{prefix}weight"), Value(1.0), output_field=FloatField())


def answer_count_table(wave: Wave, department: str | None = None, span: ReleaseSpan | None = None) -> pd.DataFrame:
    """Per-level counts of every item, per side, segment cell and account status (docs/methods.md §1.1).

    Columns: ``side, item_id, value, seg__<key>…, account_status, n, w, w2``
    where ``w`` and ``w2`` are SUM(weight) and SUM(weight²) (§9). N/A answers
    are excluded.
    """
    seg = _segment_annotations(wave, "response__")
    weight = _weight_expr("response__")
    qs = (
        Answer.objects.filter(_scope(wave, department, "response__", span), value__isnull=False)
        .annotate(side_=F("response__side"), account_status=F("response__customer_account__status"), **seg)
        .values("side_", "item_id", "value", *seg.keys(), "account_status")
        .annotate(n=Count("id"), w=Sum(weight), w2=Sum(weight * weight))
        .order_by()
    )
    columns = ["side_", "item_id", "value", *seg.keys(), "account_status", "n", "w", "w2"]
    frame = pd.DataFrame.from_records(list(qs), columns=columns)
    return frame.rename(columns={"side_": "side"})


def response_count_table(wave: Wave, department: str | None = None, span: ReleaseSpan | None = None) -> pd.DataFrame:
    """Respondents per side and segment cell. Columns: ``side, seg__<key>…, n``."""
    seg = _segment_annotations(wave, "")
    qs = (
        SurveyResponse.objects.filter(_scope(wave, department, "", span))
        .annotate(side_=F("side"), **seg)
        .values("side_", *seg.keys())
        .annotate(n=Count("id"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(qs), columns=["side_", *seg.keys(), "n"])
    return frame.rename(columns={"side_": "side"})


def _recoded_value(item_prefix: str = "item__"):
    """x' = (v_1 + v_k) − x for reverse-keyed items (docs/methods.md §0); Likert levels start at 1."""
    return Case(
        When(**{f"{item_prefix}reverse_keyed": True},
             then=F(f"{item_prefix}scale_points") + Value(1) - F("value")),
        default=F("value"),
        output_field=IntegerField(),
    )


def compile_sql(qs) -> tuple[str, tuple]:
    """The SQL and parameters of a queryset, to nest it in a hand-written query."""
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def dimension_score_table(wave: Wave, *, by_account_status: bool = False, overall: bool = False,
                          department: str | None = None, span: ReleaseSpan | None = None) -> pd.DataFrame:
    """Respondent dimension scores, count-tabled (docs/methods.md §3.1–3.2).

    The inner query sums each respondent's recoded answers per dimension
    (``s``) and counts them (``c``); the outer query counts respondents per
    (side, segment cell, dimension, s, c). The score is ``s / c``; the half
    rule (c ≥ ceil(m/2)) is applied by the caller, who knows m.

    With ``overall`` every item of a core dimension (not of an optional module
    set, ``Dimension.module``) counts toward one score per respondent (the
    overall customer-centricity score), reported with ``dimension_id`` 0.

    Columns: ``side, dimension_id, s, c, seg__<key>…, [account_status], n, w, w2``.
    """
    seg = _segment_annotations(wave, "response__")
    extra: dict = {}
    if by_account_status:
        extra["account_status"] = F("response__customer_account__status")
    weight = _weight_expr("response__")
    inner = (
        Answer.objects.filter(
            _scope(wave, department, "response__", span), value__isnull=False,
            item__kind=ItemKind.LIKERT, item__dimension__isnull=False,
            **({"item__dimension__module": ""} if overall else {}),
        )
        .annotate(rid=F("response_id"), side_=F("response__side"),
                  dim=Value(0) if overall else F("item__dimension_id"), **seg, **extra)
        .values("rid", "side_", "dim", *seg.keys(), *extra.keys())
        .annotate(s=Sum(_recoded_value()), c=Count("value"), wt=Max(weight))
        .order_by()
    )
    return _tabled_scores(inner, ["side_", "dim", "s", "c", *seg.keys(), *extra.keys()],
                          {"side_": "side", "dim": "dimension_id"})


def touchpoint_score_table(wave: Wave, department: str | None = None, span: ReleaseSpan | None = None) -> pd.DataFrame:
    """Respondent touchpoint scores, count-tabled (docs/methods.md §3.4): the overall score's table
    (:func:`dimension_score_table`) with each respondent's sum and count over the asked agreement items of
    one touchpoint in place of a dimension's.

    Columns: ``side, touchpoint, s, c, seg__<key>…, n, w, w2``.
    """
    seg = _segment_annotations(wave, "response__")
    weight = _weight_expr("response__")
    inner = (
        Answer.objects.filter(
            _scope(wave, department, "response__", span), value__isnull=False,
            item__kind=ItemKind.LIKERT, item__instrument_id=wave.instrument_id, item__retired_at__isnull=True,
        )
        .exclude(item__touchpoint="")
        .annotate(rid=F("response_id"), side_=F("response__side"), tp=F("item__touchpoint"), **seg)
        .values("rid", "side_", "tp", *seg.keys())
        .annotate(s=Sum(_recoded_value()), c=Count("value"), wt=Max(weight))
        .order_by()
    )
    return _tabled_scores(inner, ["side_", "tp", "s", "c", *seg.keys()], {"side_": "side", "tp": "touchpoint"})


def _tabled_scores(inner, group_cols: list[str], names: dict[str, str]) -> pd.DataFrame:
    """Per-respondent (s, c) rows of ``inner`` counted into a score table: n, SUM(weight), SUM(weight²) per
    group — the one outer query of the dimension and the touchpoint score tables."""
    sql, params = compile_sql(inner)
    q = connection.ops.quote_name
    cols = ", ".join(q(c) for c in group_cols)
    outer = (
        f"SELECT {cols}, COUNT(*) AS n, SUM({q('wt')}) AS w, SUM({q('wt')} * {q('wt')}) AS w2 "
        f"FROM ({sql}) AS scores GROUP BY {cols}"
    )
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    return pd.DataFrame.from_records(rows, columns=[*group_cols, "n", "w", "w2"]).rename(columns=names)


def dimension_item_moments(wave: Wave, *, side: str, dimension_id: int, complete_only: bool,
                           department: str | None = None,
                           span: ReleaseSpan | None = None) -> dict[tuple[int, int], PairMoments]:
    """Cross-product sums for Cronbach's alpha of one dimension on one side (docs/methods.md §1.2, §3.3).

    With ``complete_only`` only respondents who answered every item of the
    dimension count (listwise); otherwise each pair uses the respondents who
    answered both (pairwise). Keys are (item_i, item_j) with i ≤ j.
    """
    items = list(ItemPair.objects.filter(dimension_id=dimension_id, kind=ItemKind.LIKERT, retired_at__isnull=True)
                 .values_list("id", flat=True))
    if not items:
        return {}
    base = Answer.objects.filter(_scope(wave, department, "response__", span), response__side=side,
                                 value__isnull=False, item_id__in=items)
    value_sql, value_params = compile_sql(base.annotate(x=_recoded_value()).values("response_id", "item_id", "x"))
    q = connection.ops.quote_name
    complete_clause = ""
    complete_params: tuple = ()
    if complete_only:  # v holds exactly ``base``'s answers: a respondent with all of them answered every item
        complete_params = (len(items),)
        complete_clause = (f"WHERE a.{q('response_id')} IN (SELECT {q('response_id')} FROM v "
                           f"GROUP BY {q('response_id')} HAVING COUNT(*) = %s)")
    # The answers are unpacked from the response rows once (a materialized CTE), not once per pair or per
    # lookup: the self-join over the answer view would unpack each answer once for every answer it meets.
    sql = (
        f"WITH v AS MATERIALIZED ({value_sql}) "
        f"SELECT a.{q('item_id')}, b.{q('item_id')}, COUNT(*), SUM(a.{q('x')}), SUM(b.{q('x')}), "
        f"SUM(a.{q('x')} * a.{q('x')}), SUM(b.{q('x')} * b.{q('x')}), SUM(a.{q('x')} * b.{q('x')}) "
        f"FROM v a JOIN v b "
        f"ON a.{q('response_id')} = b.{q('response_id')} AND a.{q('item_id')} <= b.{q('item_id')} "
        f"{complete_clause} GROUP BY a.{q('item_id')}, b.{q('item_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, value_params + complete_params)
        rows = cursor.fetchall()
    return {
        (int(i), int(j)): PairMoments(int(n), float(si), float(sj), float(sii), float(sjj), float(sij))
        for i, j, n, si, sj, sii, sjj, sij in rows
    }


def account_sums(wave: Wave, department: str | None = None, span: ReleaseSpan | None = None) -> pd.DataFrame:
    """One score per customer account and measure, for perception vs churn (docs/methods.md §10).

    Contacts are aggregated to their account first.

    A measure is a dimension (the mean over the account's contacts of their
    dimension scores, half rule applied) or an outcome item (the mean answer).
    Columns: ``account_id, status, measure, count, total`` with ``measure`` =
    ``dim:<id>`` or ``item:<id>``; the score is total / count (:func:`accounts_from_sums`).
    """
    q = connection.ops.quote_name
    frames = []
    linked = Answer.objects.filter(_scope(wave, department, "response__", span), response__side=Side.CUSTOMER,
                                   response__customer_account__isnull=False, value__isnull=False)
    dims = (ItemPair.objects.filter(instrument=wave.instrument, kind=ItemKind.LIKERT, dimension__isnull=False,
                                    retired_at__isnull=True)
            .values("dimension_id").annotate(m=Count("id")))
    for row in dims:
        inner = (
            linked.filter(item__dimension_id=row["dimension_id"], item__kind=ItemKind.LIKERT)
            .annotate(rid=F("response_id"), acct=F("response__customer_account_id"),
                      st=F("response__customer_account__status"))
            .values("rid", "acct", "st")
            .annotate(s=Sum(_recoded_value()), c=Count("value"))
            .order_by()
        )
        sql, params = compile_sql(inner)
        min_items = -(-int(row["m"]) // 2)
        outer = (f"SELECT {q('acct')}, {q('st')}, COUNT(*), SUM(CAST({q('s')} AS REAL) / {q('c')}) "
                 f"FROM ({sql}) AS r WHERE {q('c')} >= %s GROUP BY {q('acct')}, {q('st')}")
        with connection.cursor() as cursor:
            cursor.execute(outer, (*params, min_items))
            frames.extend((a, st, f"dim:{row['dimension_id']}", int(count), float(total))
                          for a, st, count, total in cursor.fetchall())
    outcome = (
        linked.exclude(item__kind=ItemKind.LIKERT)
        .values("response__customer_account_id", "response__customer_account__status", "item_id")
        .annotate(count=Count("id"), total=Sum(Cast("value", FloatField())))
        .order_by()
    )
    frames.extend((r["response__customer_account_id"], r["response__customer_account__status"],
                   f"item:{r['item_id']}", int(r["count"]), float(r["total"])) for r in outcome)
    return account_sums_frame(frames)


def wave_counts_by_queries(wave: Wave, department: str | None = None, span: ReleaseSpan | None = None) -> WaveCounts:
    """The same tables as :func:`reports.counts.onepass.one_pass_counts`, one SQL query per table, dimension and side.

    The reference the one-pass reader is tested against; about sixty queries,
    several of them self-joins of the answers, so far slower on a large wave. With ``department`` (internal
    waves, surveys/internal.py) only the responses about that serving department are counted; with ``span``
    only those of some releases.
    """
    dims = list(ItemPair.objects.filter(instrument_id=wave.instrument_id, kind=ItemKind.LIKERT, retired_at__isnull=True,
                                        dimension__isnull=False).values_list("dimension_id", flat=True).distinct())
    moments = {
        (side, int(dim), complete): dimension_item_moments(wave, side=side, dimension_id=dim, complete_only=complete,
                                                           department=department, span=span)
        for dim in sorted(set(dims)) for side in (Side.STAFF, Side.CUSTOMER) for complete in (True, False)
    }
    sums = account_sums(wave, department, span)
    return WaveCounts(
        answers=answer_count_table(wave, department, span),
        scores=dimension_score_table(wave, by_account_status=True, department=department, span=span),
        overall_scores=dimension_score_table(wave, overall=True, department=department, span=span),
        responses=response_count_table(wave, department, span),
        moments=moments,
        accounts=accounts_from_sums(sums),
        touchpoint_scores=touchpoint_score_table(wave, department, span),
        account_sums=sums,
    )
