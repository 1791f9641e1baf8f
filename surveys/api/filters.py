"""Query-string filters of the staff API (django-filter); a bad value is a 400 naming the parameter."""

from __future__ import annotations

import django_filters as df
from django.db.models import QuerySet

from surveys.models import (
    AuditEvent,
    CustomerAccount,
    Instrument,
    Invitation,
    Membership,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
)


class MembershipFilter(df.FilterSet):
    class Meta:
        model = Membership
        fields = ["organization", "role"]


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
    side = df.ChoiceFilter(choices=Side.choices)
    status = df.ChoiceFilter(
        choices=[("pending", "Not sent yet"), ("sent", "Sent, not answered"), ("answered", "Answered")],
        method="filter_status",
    )

    class Meta:
        model = Invitation
        fields = ["side", "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "answered":
            return queryset.filter(use__isnull=False)
        return queryset.filter(use__isnull=True, sent_at__isnull=(value == "pending"))


class SurveyResponseFilter(df.FilterSet):
    side = df.ChoiceFilter(choices=Side.choices)

    class Meta:
        model = SurveyResponse
        fields = ["side"]


class CustomerAccountFilter(df.FilterSet):
    class Meta:
        model = CustomerAccount
        fields = ["organization", "status", "tier", "touch_model"]


class AuditEventFilter(df.FilterSet):
    wave = df.NumberFilter(field_name="wave_id")
    organization = df.NumberFilter(field_name="organization_id")
    action = df.ChoiceFilter(choices=AuditEvent.Action.choices)

    class Meta:
        model = AuditEvent
        fields = ["wave", "organization", "action"]
