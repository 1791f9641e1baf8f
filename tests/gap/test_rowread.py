"""The one-pass reader over ORM batches (reports.counts.rowread), the reader of every database but PostgreSQL,
gives exactly the GROUP BY reader's tables — on both databases (this module runs in both passes)."""

from __future__ import annotations

from django.core.management import call_command

from reports.counts import groupby, onepass, rowread
from reports.counts.tables import ReleaseSpan
from surveys import models as m
from tests.gap.test_onepass import _assert_same


def _rows(wave, span=None):
    return onepass.one_pass_counts(wave, span, reader_class=rowread.RowReader)


def test_the_row_reader_equals_the_group_by_reader(gap_wave):
    wave, _ = gap_wave
    got = _rows(wave)
    assert not got.answers.empty and not got.accounts.empty and any(got.moments.values())
    _assert_same(got, groupby.wave_counts_by_queries(wave))


def test_the_row_reader_equals_the_group_by_reader_on_the_demo(db, monkeypatch):
    """Accounts, churn statuses, weights, N/A answers, outcome items, several segment fields, in batches."""
    call_command("load_demo", "--responses", "40", "--seed", "3", stdout=open("/dev/null", "w"))
    wave = m.Wave.objects.filter(organization__slug="demo").exclude(status="draft").order_by("-opens_on").first()
    whole = _rows(wave)
    _assert_same(whole, groupby.wave_counts_by_queries(wave))
    monkeypatch.setattr(rowread, "CHUNK", 7)
    _assert_same(_rows(wave), whole)


def test_the_row_reader_reads_a_span_of_releases_and_of_accounts(gap_wave):
    wave, _ = gap_wave
    top = {side: max(wave.responses.filter(side=side).values_list("release", flat=True)) for side in ("staff",
                                                                                                    "customer")}
    span = ReleaseSpan(after=dict.fromkeys(top, 0), upto=top)
    _assert_same(_rows(wave, span), groupby.wave_counts_by_queries(wave, span=span))
    accounts = tuple(m.CustomerAccount.objects.filter(responses__wave=wave).values_list("pk", flat=True)[:2])
    span = ReleaseSpan(after=dict.fromkeys(top, 0), upto=top, accounts=accounts)
    got = _rows(wave, span)
    assert set(got.account_sums.account_id) == set(accounts)
    _assert_same(got, groupby.wave_counts_by_queries(wave, span=span))
