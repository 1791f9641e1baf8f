"""The view mixins of every authenticated API view: visibility, roles, ids and the body-size limit.

Visibility comes first and lives in ``get_queryset`` (selectors): an object of an
organization the user does not belong to is 404, whatever its id looks like. The
role in the object's organization then decides between allowed and 403
(``backend.api.permissions``). Services do the writes and raise ``surveys.errors``,
which ``backend.api.errors`` turns into ``{"detail", "code"}``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request

from backend.api.permissions import ADMIN, EVERYONE, OrganizationRole, required_roles
from backend.ids import MAX_ID_DIGITS, parse_id
from surveys import errors, selectors
from surveys.models import Wave

ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**MAX_ID_DIGITS - 1}


class KagamiAPIMixin:
    # Scopes, roles and guards shared by every authenticated API view. A comment, not a docstring:
    # drf-spectacular would publish a docstring as the description of every operation without its own.

    permission_classes = [OrganizationRole]
    read_roles: frozenset[str] = EVERYONE
    write_roles: frozenset[str] = ADMIN
    action_roles: dict[str, frozenset[str]] = {}
    lookup_parser = staticmethod(parse_id)  # parse_uuid for UUID primary keys

    request: Request

    @cached_property
    def roles(self) -> dict[int, str]:
        return selectors.user_roles(user=self.request.user)

    def org_ids(self, roles: frozenset[str] | None = None) -> list[int]:
        return selectors.org_ids_with_role(roles_by_org=self.roles, roles=roles or EVERYONE)

    def visible_org_ids(self) -> list[int]:
        """Lists show what the action may read; object lookups see every membership, so a
        member with a weaker role gets 403 (the object exists for them) and others 404."""
        if getattr(self, "action", None) == "list":
            return self.org_ids(required_roles(self, self.request))
        return self.org_ids()

    def require_role(self, organization_id: int, roles: frozenset[str]) -> None:
        if self.roles.get(organization_id) not in roles:
            raise exceptions.PermissionDenied("Your role in this organization does not allow this.")

    def object_organization_id(self, obj: Any) -> int | None:
        return obj.organization_id

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # DRF's JSON parser streams the body and so skips DATA_UPLOAD_MAX_MEMORY_SIZE: check here.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = (request.content_type or "").startswith("multipart/")
        limit = settings.KAGAMI_MAX_IMPORT_BYTES + 65_536 if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            raise errors.PayloadTooLarge()

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["roles"] = self.roles
        return context

    def get_object(self) -> Any:
        kwarg = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
        lookup = self.lookup_parser(self.kwargs.get(kwarg))  # type: ignore[attr-defined]
        if lookup is None:
            raise exceptions.NotFound()
        obj = get_object_or_404(self.filter_queryset(self.get_queryset()),  # type: ignore[attr-defined]
                                **{self.lookup_field: lookup})  # type: ignore[attr-defined]
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj


WAVE_PK = OpenApiParameter("wave_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The wave's id.")


class WaveNestedMixin(KagamiAPIMixin):
    """Views under /waves/{wave_pk}/: the wave must be visible (else 404), then the role decides (else 403)."""

    kwargs: dict[str, Any]

    @cached_property
    def wave(self) -> Wave:
        wave_pk = parse_id(self.kwargs.get("wave_pk"))
        if wave_pk is None:
            raise exceptions.NotFound()
        wave = get_object_or_404(selectors.wave_list(org_ids=self.org_ids()), pk=wave_pk)
        self.require_role(wave.organization_id, required_roles(self, self.request))
        return wave

    def object_organization_id(self, obj: Any) -> int:
        return self.wave.organization_id
