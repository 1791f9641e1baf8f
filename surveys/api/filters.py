"""Query-string filters of the staff API (django-filter); a bad value is a 400 naming the parameter."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django import forms
from django.db.models import Q, QuerySet

from surveys import internal, member_invitations
from surveys.models import (
    AuditEvent,
    CustomerAccount,
    Instrument,
    Invitation,
    Membership,
    MembershipInvitation,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
)


class MembershipFilter(df.FilterSet):
    class Meta:
        model = Membership
        fields = ["organization", "role"]


class MembershipInvitationFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=[(s, s) for s in ("pending", "accepted", "revoked", "expired")],
                             method="filter_status")

    class Meta:
        model = MembershipInvitation
        fields = ["organization", "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return member_invitations.filter_status(queryset, value)


class InstrumentFilter(df.FilterSet):
    class Meta:
        model = Instrument
        fields = ["organization", "key", "is_builtin"]


class WaveFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=WaveStatus.choices)

    class Meta:
        model = Wave
        fields = ["organization", "status"]


class InvitationFilter(df.FilterSet):
    """Side and status only: nothing to filter or sort on by use or reminders.

    A filter is a per-person oracle too, so for staff invitations (disclosure promise P1, no linkage)
    status is delivery only — pending (never sent) or sent, answered or not — and "answered" selects
    customer invitations only.
    """

    side = df.ChoiceFilter(choices=Side.choices)
    status = df.ChoiceFilter(
        choices=[("pending", "Not sent yet"), ("sent", "Sent (customers: and not answered)"),
                 ("answered", "Answered (customers only)")],
        method="filter_status",
    )

    class Meta:
        model = Invitation
        fields = ["side", "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        staff = internal.protected_q()  # staff, and the employees of an internal wave
        if value == "answered":
            return queryset.filter(~staff, use__isnull=False)
        return queryset.filter(staff | Q(use__isnull=True), sent_at__isnull=(value == "pending"))


class SurveyResponseFilter(df.FilterSet):
    side = df.ChoiceFilter(choices=Side.choices)

    class Meta:
        model = SurveyResponse
        fields = ["side"]


class CustomerAccountFilter(df.FilterSet):
    class Meta:
        model = CustomerAccount
        fields = ["organization", "status", "tier", "touch_model"]


class IdFilter(df.NumberFilter):
    """A database id: a whole number in the id range, else 400 (a float like 1e244 would overflow the driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class AuditEventFilter(df.FilterSet):
    wave = IdFilter(field_name="wave_id")
    organization = IdFilter(field_name="organization_id")
    action = df.ChoiceFilter(choices=AuditEvent.Action.choices)

    class Meta:
        model = AuditEvent
        fields = ["wave", "organization", "action"]
