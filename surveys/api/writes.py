"""Writes the staff API needs beyond surveys.services (custom instruments, memberships, updates).

They follow the services' conventions (keyword-only, typed, raise surveys.errors)
and belong in surveys/services.py; they live here only because that module has
one owner at a time. Move them when convenient — callers import them by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from surveys import errors, services
from surveys.models import (
    CustomerAccount,
    Dimension,
    Instrument,
    ItemPair,
    Membership,
    Organization,
    Role,
    Wave,
)

INSTRUMENT_TEXT_FIELDS = ("name_ja", "name_en", "description_ja", "description_en")


def _create_contents(*, instrument: Instrument, dimensions: list[Mapping[str, Any]],
                     items: list[Mapping[str, Any]]) -> None:
    dims: dict[str, Dimension] = {}
    for index, spec in enumerate(dimensions):
        dim = Dimension.objects.create(
            instrument=instrument,
            key=spec["key"],
            order=spec.get("order", index),
            name_ja=spec["name_ja"],
            name_en=spec["name_en"],
            description_ja=spec.get("description_ja", ""),
            description_en=spec.get("description_en", ""),
        )
        dims[dim.key] = dim
    for index, spec in enumerate(items):
        values = dict(spec)
        dimension_key = values.pop("dimension", None)
        values.setdefault("order", index)
        ItemPair.objects.create(instrument=instrument, dimension=dims.get(dimension_key) if dimension_key else None,
                                **values)


@transaction.atomic
def instrument_create(*, organization: Organization, key: str, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]], items: list[Mapping[str, Any]]) -> Instrument:
    """Create version 1 of a custom instrument with its dimensions and items (already validated).

    Raises ValidationFailed when the organization already has that key.
    """
    if Instrument.objects.filter(organization=organization, key=key).exists():
        raise errors.ValidationFailed(
            field_errors={"key": ["This organization already has an instrument with this key."]}
        )
    instrument = Instrument.objects.create(organization=organization, key=key, version=1,
                                           **{k: texts.get(k, "") for k in INSTRUMENT_TEXT_FIELDS})
    _create_contents(instrument=instrument, dimensions=dimensions, items=items)
    return instrument


@transaction.atomic
def instrument_update(*, instrument: Instrument, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]] | None = None,
                      items: list[Mapping[str, Any]] | None = None) -> Instrument:
    """Change an editable instrument's texts and, when given, replace its dimensions and items.

    Raises InstrumentFrozen (409) when a wave uses this version or it is built in.
    """
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    services.instrument_ensure_editable(instrument=locked)
    for name in INSTRUMENT_TEXT_FIELDS:
        if name in texts:
            setattr(locked, name, texts[name])
    locked.save(update_fields=list(INSTRUMENT_TEXT_FIELDS))
    if dimensions is not None and items is not None:
        # Nothing answers an unfrozen version, so its items can be replaced wholesale.
        locked.items.all().delete()
        locked.dimensions.all().delete()
        _create_contents(instrument=locked, dimensions=dimensions, items=items)
    return locked


WAVE_EDITABLE_FIELDS = (
    "name", "slug", "opens_on", "closes_on", "languages", "default_language", "anonymity_threshold",
    "customer_threshold", "staff_segment_fields", "customer_segment_fields", "previous_wave",
)


@transaction.atomic
def wave_update(*, wave: Wave, **fields: Any) -> Wave:
    """Change a wave's settings (never its status: see services.wave_set_status)."""
    unknown = set(fields) - set(WAVE_EDITABLE_FIELDS)
    if unknown:
        raise errors.ValidationFailed(field_errors={name: ["This field cannot be changed."] for name in unknown})
    for name, value in fields.items():
        setattr(wave, name, value)
    if fields:
        wave.save(update_fields=list(fields))
    return wave


def _admins_left(*, organization_id: int, excluding: Membership) -> bool:
    return (
        Membership.objects.filter(organization_id=organization_id, role=Role.ADMIN).exclude(pk=excluding.pk).exists()
    )


@transaction.atomic
def membership_create(*, organization: Organization, user: Any, role: str) -> Membership:
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise errors.ValidationFailed(field_errors={"username": ["This user is already a member."]})
    return Membership.objects.create(organization=organization, user=user, role=role)


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role. Raises Conflict ``last_admin`` when that would leave no admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and role != Role.ADMIN and not _admins_left(
        organization_id=locked.organization_id, excluding=locked
    ):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member. Raises Conflict ``last_admin`` for the last admin."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and not _admins_left(organization_id=locked.organization_id, excluding=locked):
        raise errors.Conflict("An organization needs at least one admin.", code="last_admin")
    locked.delete()


ACCOUNT_FIELDS = ("external_id", "name", "tier", "touch_model", "plan", "region", "arr", "status",
                  "customer_since", "churned_on", "renewed_on")


@transaction.atomic
def account_save(*, organization: Organization, account: CustomerAccount | None = None,
                 **fields: Any) -> CustomerAccount:
    """Create or change a customer account. Raises ValidationFailed for a duplicate external_id."""
    external_id = fields.get("external_id", account.external_id if account else "")
    clash = CustomerAccount.objects.filter(organization=organization, external_id=external_id)
    if account is not None:
        clash = clash.exclude(pk=account.pk)
    if clash.exists():
        raise errors.ValidationFailed(field_errors={"external_id": ["An account with this external id exists."]})
    account = account or CustomerAccount(organization=organization)
    for name, value in fields.items():
        if name in ACCOUNT_FIELDS:
            setattr(account, name, value)
    account.save()
    return account
