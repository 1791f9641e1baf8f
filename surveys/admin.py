"""Django admin for back-office work on the surveys domain.

Editing goes through services wherever a raw edit could break an invariant:
waves open and close by action (the state machine), a frozen instrument is
read-only and is changed by creating a new version, invitations are issued by
``invitation_create`` (a customer's link is shown once, never stored; a staff
link never, it is only emailed to the invitation's address), and responses,
answers and invitation uses are view-only. Staff responses never show an
invitation, an account or a time, and staff invitations never show whether (or
when) they were used or reminded (disclosure promise P1, no linkage).

Why one file: it is Django's one admin module of the app, a short class per model, and the anonymity
rules above span several models (invitations, their uses, responses, answers); in one file a reviewer
checks every admin page against P1 in one reading.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from surveys import errors, internal, services
from surveys.models import (
    AnonymousLink,
    Answer,
    AuditEvent,
    CustomerAccount,
    Dimension,
    Instrument,
    Invitation,
    InvitationUse,
    ItemPair,
    Membership,
    Organization,
    Side,
    SurveyResponse,
    Wave,
)


def instrument_is_locked(instrument: Instrument | None) -> bool:
    """True when editing this instrument version would change what a wave asked (or the built-in)."""
    if instrument is None or instrument.pk is None:
        return False
    try:
        services.instrument_ensure_editable(instrument=instrument)
    except errors.InstrumentFrozen:
        return True
    return False


def _all_fields(model: Any) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


class ReadOnlyAdminMixin:
    """View (and optionally delete) only: rows written by services, never edited by hand."""

    allow_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)  # type: ignore[misc]


# --------------------------------------------------------------------------- organizations


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "display_name_ja", "display_name_en", "created_at"]
    search_fields = ["name", "slug", "display_name_ja", "display_name_en"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "created_at"
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name", "organization__slug"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "organization"]


# --------------------------------------------------------------------------- instruments


class _InstrumentChildInline(admin.TabularInline):
    """Children of an instrument: editable on a draft version, read-only once it is frozen."""

    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not instrument_is_locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not instrument_is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not instrument_is_locked(obj) and super().has_delete_permission(request, obj)


class DimensionInline(_InstrumentChildInline):
    model = Dimension
    fields = ["order", "key", "name_ja", "name_en"]


class ItemPairInline(_InstrumentChildInline):
    model = ItemPair
    fields = ["order", "key", "dimension", "kind", "staff_text_ja", "customer_text_ja", "scale_points",
              "allow_na", "reverse_keyed", "topbox_levels", "is_headline"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        # Only this instrument's dimensions make sense for its items.
        instrument_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if db_field.name == "dimension" and field is not None:
            field.queryset = field.queryset.filter(instrument_id=instrument_id) if instrument_id else \
                field.queryset.none()
        return field


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["name_en", "key", "version", "organization", "is_builtin", "frozen_at", "created_at"]
    list_filter = ["is_builtin", ("frozen_at", admin.EmptyFieldListFilter), "organization"]
    search_fields = ["key", "name_en", "name_ja", "organization__name"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["based_on"]
    readonly_fields = ["is_builtin", "based_on", "frozen_at", "created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]
    inlines = [DimensionInline, ItemPairInline]
    actions = ["new_version"]

    def get_form(self, request: HttpRequest, obj: Instrument | None = None, change: bool = False,
                 **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "organization" in form.base_fields:
            # Only Kagami ships organization-less (built-in) instruments, through its migration.
            form.base_fields["organization"].required = True
        return form

    def has_change_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        # Frozen or built-in: shown read-only; "Create a new version" is the way to change it.
        return not instrument_is_locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Instrument | None = None) -> bool:
        return not instrument_is_locked(obj) and super().has_delete_permission(request, obj)

    @admin.action(description="Create a new editable version of the selected instruments")
    def new_version(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for instrument in queryset:
            try:
                copy = services.instrument_new_version(instrument=instrument)
            except errors.KagamiError as exc:
                self.message_user(request, f"{instrument}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"Created {copy} ({copy.key} v{copy.version}).", messages.SUCCESS)


class _LockedWithInstrumentAdmin(admin.ModelAdmin):
    """Dimensions and items follow their instrument: read-only once it is frozen."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        locked = obj is not None and instrument_is_locked(obj.instrument)
        return not locked and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        locked = obj is not None and instrument_is_locked(obj.instrument)
        return not locked and super().has_delete_permission(request, obj)


@admin.register(Dimension)
class DimensionAdmin(_LockedWithInstrumentAdmin):
    list_display = ["name_en", "key", "instrument", "order"]
    list_filter = ["instrument__is_builtin", "instrument"]
    search_fields = ["key", "name_en", "name_ja", "instrument__key"]
    raw_id_fields = ["instrument"]
    list_select_related = ["instrument"]


@admin.register(ItemPair)
class ItemPairAdmin(_LockedWithInstrumentAdmin):
    list_display = ["key", "instrument", "dimension", "kind", "scale_points", "allow_na", "reverse_keyed",
                    "is_headline", "order"]
    list_filter = ["kind", "is_headline", "reverse_keyed", "allow_na", "instrument__is_builtin", "instrument"]
    search_fields = ["key", "construct", "staff_text_en", "staff_text_ja", "customer_text_en", "customer_text_ja"]
    raw_id_fields = ["instrument", "dimension"]
    list_select_related = ["instrument", "dimension"]


# --------------------------------------------------------------------------- waves


class AnonymousLinkInline(admin.TabularInline):
    model = AnonymousLink
    extra = 0
    fields = ["side", "is_active", "url", "created_at"]
    readonly_fields = ["side", "url", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # wave_create makes both links

    @admin.display(description="Link")
    def url(self, obj: AnonymousLink) -> str:
        return f"{settings.KAGAMI_PUBLIC_URL}/s/{obj.wave.slug}/{obj.side}/"


class WaveAdminForm(forms.ModelForm):
    class Meta:
        model = Wave
        fields = ["organization", "instrument", "name", "slug", "opens_on", "closes_on", "languages",
                  "default_language", "anonymity_threshold", "anonymity_override_reason", "customer_threshold",
                  "staff_segment_fields", "customer_segment_fields", "previous_wave",
                  # What respondents read (surveys/respondents.py); empty: a default.
                  "staff_title_ja", "staff_title_en", "staff_intro_ja", "staff_intro_en",
                  "customer_title_ja", "customer_title_en", "customer_intro_ja", "customer_intro_en"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is not None:
            try:
                # The admin's change view is one transaction: the lock taken here is held until the save.
                services.wave_lock_for_edit(self.instance.pk)
            except errors.Conflict as exc:
                raise forms.ValidationError(exc.detail) from None
        organization, instrument = data.get("organization"), data.get("instrument")
        if self.instance.pk is None and organization and instrument and \
                instrument.organization_id not in (None, organization.pk):
            self.add_error("instrument", "This instrument belongs to another organization.")
        threshold = data.get("anonymity_threshold")
        if threshold is not None:
            # The service's rule (wave_threshold_reason), shown beside the field; saving asks it again.
            changing = {"anonymity_threshold", "anonymity_override_reason"} & set(self.changed_data)
            adding = self.instance.pk is None
            try:
                if adding or changing:
                    services.wave_threshold_reason(
                        threshold=threshold,
                        reason=data.get("anonymity_override_reason")
                        if adding or "anonymity_override_reason" in self.changed_data else None,
                        previous_threshold=None if adding else self.instance.anonymity_threshold,
                        previous_reason="" if adding else self.instance.anonymity_override_reason,
                    )
            except errors.ValidationFailed as exc:
                for field, problems in exc.field_errors.items():
                    for problem in problems:
                        self.add_error(field, problem)
        return data


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    form = WaveAdminForm
    list_display = ["name", "slug", "organization", "status", "opens_on", "closes_on", "instrument",
                    "anonymity_threshold", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["name", "slug", "organization__name"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["instrument", "previous_wave"]
    date_hierarchy = "opens_on"
    list_select_related = ["organization", "instrument"]
    inlines = [AnonymousLinkInline]
    actions = ["open_waves", "close_waves"]

    def get_readonly_fields(self, request: HttpRequest, obj: Wave | None = None) -> list[str]:
        # Status moves only through the state machine (actions); the questionnaire and owner never change.
        fields = ["status", "opened_at", "closed_at", "created_at"]
        if obj is not None:
            fields += ["organization", "instrument", "slug"]
        return fields

    def save_model(self, request: HttpRequest, obj: Wave, form: Any, change: bool) -> None:
        if change:
            # Through wave_update: a threshold below 5 needs its reason and is audited as this user.
            changed = {name: form.cleaned_data[name] for name in form.changed_data
                       if name in services.WAVE_EDITABLE_FIELDS}
            services.wave_update(wave=obj, user=request.user, **changed)
            return
        # A new wave goes through wave_create: it freezes the instrument and creates both anonymous links.
        fields = {name: form.cleaned_data[name] for name in form.cleaned_data
                  if name not in {"organization", "instrument", "name", "slug"}}
        wave = services.wave_create(organization=obj.organization, instrument=obj.instrument, name=obj.name,
                                    slug=obj.slug, user=request.user, **fields)
        obj.pk = wave.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def get_inlines(self, request: HttpRequest, obj: Wave | None) -> list[Any]:
        return self.inlines if obj is not None else []  # on add, wave_create makes the links

    def _transition(self, request: HttpRequest, queryset: QuerySet[Wave], verb: str) -> None:
        service = services.wave_open if verb == "open" else services.wave_close
        for wave in queryset:
            try:
                service(wave=wave)
            except errors.KagamiError as exc:
                self.message_user(request, f"{wave}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{wave} is now {wave.status}.", messages.SUCCESS)

    @admin.action(description="Open the selected waves (draft → open)")
    def open_waves(self, request: HttpRequest, queryset: QuerySet[Wave]) -> None:
        self._transition(request, queryset, "open")

    @admin.action(description="Close the selected waves (open → closed)")
    def close_waves(self, request: HttpRequest, queryset: QuerySet[Wave]) -> None:
        self._transition(request, queryset, "close")


@admin.register(AnonymousLink)
class AnonymousLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "wave", "side", "is_active", "created_at"]
    list_filter = ["side", "is_active", "wave__status"]
    search_fields = ["wave__slug", "wave__name"]
    readonly_fields = ["wave", "side", "created_at"]
    list_select_related = ["wave"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one per wave and side, made by wave_create


# --------------------------------------------------------------------------- accounts and invitations


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "organization", "tier", "touch_model", "plan", "region", "arr", "status",
                    "churned_on", "renewed_on"]
    list_filter = ["status", "touch_model", "tier", "region", "organization"]
    search_fields = ["external_id", "name", "organization__name"]
    autocomplete_fields = ["organization"]
    date_hierarchy = "customer_since"
    list_select_related = ["organization"]


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["wave", "side", "email", "name", "language", "segments", "customer_account"]

    def clean(self) -> dict[str, Any]:
        # The service's rules, checked here so the form shows them beside the field instead of failing on save.
        data = super().clean()
        wave = data.get("wave") or getattr(self.instance, "wave", None)
        side = data.get("side") or self.instance.side
        account = data.get("customer_account", self.instance.customer_account if self.instance.pk else None)
        if wave is None or not side:
            return data
        if side == Side.STAFF and "email" in self.fields and not (data.get("email") or "").strip():
            # Its link is only ever emailed (P1): an invitation without an address would reach nobody.
            self.add_error("email", services.STAFF_EMAIL_REQUIRED)
        if account is not None and side == Side.STAFF:
            self.add_error("customer_account" if "customer_account" in self.fields else None,
                           "Staff invitations have no account.")
        elif account is not None and account.organization_id != wave.organization_id:
            self.add_error("customer_account", "This account belongs to another organization.")
        if "segments" in self.fields:
            try:
                data["segments"] = services.clean_segments(wave=wave, side=side, segments=data.get("segments"))
            except errors.ValidationFailed as exc:
                self.add_error("segments", "; ".join(msg for msgs in exc.field_errors.values() for msg in msgs))
        return data


class CustomerUsedFilter(admin.SimpleListFilter):
    """Used or not, for customer invitations only: no filter picks out the staff who answered (P1)."""

    title = "used (customers only)"
    parameter_name = "customer_used"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
        if self.value() in ("yes", "no"):
            return queryset.filter(side=Side.CUSTOMER, use__isnull=self.value() == "no")
        return queryset


# Disclosure promise P1, "no linkage": nothing shows which staff invitations were used. A reminder goes
# only to those who have not answered, so a staff invitation's reminder fields would show it too: they are
# neither shown, nor filtered or sorted on, for staff.
STAFF_HIDDEN_INVITATION_FIELDS = {"used", "last_reminded_at", "reminder_count"}
STAFF_HIDDEN_LOOKUPS = {"use", "last_reminded_at", "reminder_count"}


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationAdminForm
    # token_hash is never shown: not listed, not a field, not searchable.
    # "used" and "reminders" are blank for staff and sort nothing (P1).
    list_display = ["id", "wave", "side", "email", "name", "language", "used", "sent_at", "reminders"]
    list_filter = ["side", "language", "wave__status", CustomerUsedFilter, "wave"]
    search_fields = ["email", "name", "wave__slug"]
    raw_id_fields = ["wave", "customer_account"]
    list_select_related = ["wave", "use"]
    fields = ["wave", "side", "email", "name", "language", "segments", "customer_account", "used", "created_at",
              "sent_at", "last_reminded_at", "reminder_count"]
    date_hierarchy = "created_at"

    def get_fields(self, request: HttpRequest, obj: Invitation | None = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if obj is not None and internal.protected_side(obj.wave, obj.side):
            fields = [f for f in fields if f not in STAFF_HIDDEN_INVITATION_FIELDS]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Invitation | None = None) -> list[str]:
        fields = ["used", "created_at", "sent_at", "last_reminded_at", "reminder_count"]
        if obj is not None:
            fields += ["wave", "side", "customer_account"]
            if internal.protected_side(obj.wave, obj.side):
                # A staff link goes only to the address it was created for: with another address, resending
                # or reminding would mail a fresh link there for an unused invitation only (P1). To correct
                # an address, delete the invitation and create a new one.
                fields.append("email")
        return fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Django allows any lookup on the model's own fields and relations in the query string
        # (?use__isnull=…, ?reminder_count=…): refused (400), whatever the side. Customers have CustomerUsedFilter.
        if lookup.split("__")[0] in STAFF_HIDDEN_LOOKUPS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(boolean=True, description="Used")
    def used(self, obj: Invitation) -> bool | None:
        if obj.pk is None or internal.protected_side(obj.wave, obj.side):
            return None  # P1: never shown for staff
        return obj.is_used

    @admin.display(description="Reminders")
    def reminders(self, obj: Invitation) -> int | None:
        return None if internal.protected_side(obj.wave, obj.side) else obj.reminder_count  # P1: never shown for staff

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list, dict, set, list]:
        # A used invitation cascades to its InvitationUse, which the confirmation page would list (and which
        # the admin may not delete, so the deletion would be refused): for staff, only the invitation itself.
        objs = list(objs)
        customers = [obj for obj in objs if not internal.protected_side(obj.wave, obj.side)]
        staff = [obj for obj in objs if internal.protected_side(obj.wave, obj.side)]
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(customers, request)
        if staff:
            staff_delete, _, staff_perms, staff_protected = super().get_deleted_objects(staff, request)
            # Nested lists are what cascades from each: for a staff invitation, only its use.
            to_delete = [*to_delete, *(item for item in staff_delete if not isinstance(item, list))]
            plural = Invitation._meta.verbose_name_plural
            counts = {**counts, plural: counts.get(plural, 0) + len(staff)}
            perms_needed = set(perms_needed) | (set(staff_perms) - {InvitationUse._meta.verbose_name})
            protected = [*protected, *staff_protected]
        return to_delete, counts, perms_needed, protected

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: it makes the token and stores only its hash. The form checked its rules.
        with services.staff_invitations_by_email_only():
            issued = services.invitation_create(
                wave=obj.wave, side=obj.side, email=obj.email, name=obj.name, language=obj.language,
                segments=obj.segments, customer_account=obj.customer_account,
            )
        obj.pk = issued.invitation.pk
        obj._state.adding = False
        obj.refresh_from_db()
        if internal.protected_side(obj.wave, obj.side):
            # Never shown (P1): kept, a staff link would say later whether its invitee answered.
            self.message_user(request, "The staff invitation's link is never shown: it is only emailed to its "
                                       "address, by send_invitations or the API's resend.", messages.INFO)
            return
        # The token exists only now: show its link once (like the email would), never store it.
        self.message_user(request, f"Invitation link (shown only now): {settings.KAGAMI_PUBLIC_URL}/r/{issued.token}/",
                          messages.WARNING)


@admin.register(InvitationUse)
class InvitationUseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uses of customer invitations only: a staff invitation's use would name a colleague who answered (P1)."""

    list_display = ["invitation", "used_on"]
    list_filter = ["invitation__wave"]
    search_fields = ["invitation__email", "invitation__wave__slug"]
    date_hierarchy = "used_on"
    list_select_related = ["invitation", "invitation__wave"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvitationUse]:
        return super().get_queryset(request).filter(invitation__side=Side.CUSTOMER)


# --------------------------------------------------------------------------- responses


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["item", "value"]
    readonly_fields = ["item", "value"]
    can_delete = False
    ordering = ["item__order"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        return super().get_queryset(request).select_related("item")


STAFF_HIDDEN_RESPONSE_FIELDS = {"invitation", "customer_account", "submitted_at", "weight"}


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customer responses only. Staff responses leave Kagami only as k-anonymous microdata through the API
    and the exports (disclosure promises P6, P7): a raw staff row here, with its day, channel and comment,
    would undo that, and deleting one would show what it had contributed (P4)."""

    # Deleting is allowed (spam through an anonymous link, a respondent's erasure request); editing is not.
    allow_delete = True
    list_display = ["id", "wave", "side", "language", "channel", "submitted_on", "weight"]
    list_filter = ["side", "channel", "language", "wave__status", "wave"]
    search_fields = ["=id", "comment", "wave__slug"]
    date_hierarchy = "submitted_on"
    list_select_related = ["wave"]
    show_full_result_count = False  # COUNT(*) on a large table for every page is not worth it
    inlines = [AnswerInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SurveyResponse]:
        return super().get_queryset(request).filter(side=Side.CUSTOMER)

    def get_fields(self, request: HttpRequest, obj: SurveyResponse | None = None) -> list[str]:
        # The packed answers are bytes; the inline shows them as rows of the answer view.
        fields = [f for f in _all_fields(SurveyResponse) if f != "answers_packed"]
        if obj is None or internal.protected_side(obj.wave, obj.side):
            # Staff responses are unlinkable: no invitation, account or time, ever shown.
            fields = [f for f in fields if f not in STAFF_HIDDEN_RESPONSE_FIELDS]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: SurveyResponse | None = None) -> list[str]:
        return self.get_fields(request, obj)


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers' answers only, for the same reason as :class:`SurveyResponseAdmin`."""

    list_display = ["id", "response", "item", "value"]
    list_filter = ["response__side", "item__kind", "response__wave"]
    search_fields = ["item__key", "=response__id"]
    raw_id_fields = ["response", "item"]
    list_select_related = ["response", "item"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        return super().get_queryset(request).filter(response__side=Side.CUSTOMER)


# --------------------------------------------------------------------------- audit


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "organization", "username", "action", "wave"]
    list_filter = ["action", "organization"]
    search_fields = ["username", "wave__slug"]
    date_hierarchy = "created_at"
    list_select_related = ["organization", "wave"]
    readonly_fields = ["organization", "user", "username", "action", "wave", "details", "created_at"]
