"""The staff API of an organization's touchpoints: /api/v1/organizations/{organization_pk}/touchpoints/.

A touchpoint is named by its key (what items carry). Every member reads the list; admins create, rename,
reorder and delete (surveys.services.touchpoints, which also says when a delete is refused). Another
organization is 404, as everywhere.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from backend.api.base import KagamiAPIMixin
from backend.api.permissions import required_roles
from backend.api.schema import DETAIL, WRITE, errs
from backend.ids import parse_id
from surveys import errors, selectors, services
from surveys.api import serializers as s
from surveys.models import Organization, Touchpoint

ORGANIZATION_PK = OpenApiParameter("organization_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                                   description="The organization's id.")
KEY = OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, description="The touchpoint's key.")


def _rows(touchpoints: list[Touchpoint]) -> list[dict[str, Any]]:
    is_default = bool(touchpoints) and touchpoints[0].pk is None
    return [{"key": t.key, "order": index, "name_ja": t.name_ja, "name_en": t.name_en, "is_default": is_default}
            for index, t in enumerate(touchpoints)]


def _row(touchpoint: Touchpoint, organization_id: int) -> dict[str, Any]:
    return next(r for r in _rows(selectors.touchpoint_list(organization_id=organization_id))
                if r["key"] == touchpoint.key)


@extend_schema_view(
    list=extend_schema(summary="An organization's touchpoints, in journey order",
                       description="The defaults (first contact … renewal, `is_default`) until an admin first "
                                   "edits the list.",
                       responses={200: s.TouchpointSerializer(many=True), **errs(*DETAIL)}),
    create=extend_schema(summary="Add a touchpoint (admin)",
                         description="Last, or right after `after`. 400 naming `key` when it is taken.",
                         request=s.TouchpointCreateSerializer,
                         responses={201: s.TouchpointSerializer, **errs(*WRITE, 409)}),
    partial_update=extend_schema(summary="Rename a touchpoint (admin)", parameters=[KEY],
                                 description="The key never changes: items carry it. Sending `key` is a 400.",
                                 request=s.TouchpointUpdateSerializer,
                                 responses={200: s.TouchpointSerializer, **errs(*WRITE)}),
    destroy=extend_schema(summary="Delete a touchpoint (admin)", parameters=[KEY],
                          description=("409 `touchpoint_in_use` while an item of an editable version (no wave "
                                       "yet) carries it; items of frozen versions keep the key and show its default "
                                       "name. 409 `last_touchpoint` for the last one."),
                          responses={204: None, **errs(*DETAIL, 409)}),
)
@extend_schema(tags=["organizations"], parameters=[ORGANIZATION_PK])
class TouchpointViewSet(KagamiAPIMixin, ViewSet):
    lookup_field = "key"
    lookup_value_regex = "[^/]+"

    kwargs: dict[str, Any]

    @cached_property
    def organization(self) -> Organization:
        """The organization named by the URL: one of the user's (else 404), then the role decides (else 403)."""
        pk = parse_id(self.kwargs.get("organization_pk"))
        if pk is None:
            raise exceptions.NotFound()
        organization = get_object_or_404(selectors.organization_list(org_ids=self.org_ids()), pk=pk)
        self.require_role(organization.pk, required_roles(self, self.request))
        return organization

    def list(self, request: Request, organization_pk: str) -> Response:
        return Response(_rows(selectors.touchpoint_list(organization_id=self.organization.pk)))

    def create(self, request: Request, organization_pk: str) -> Response:
        organization = self.organization
        serializer = s.TouchpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.touchpoint_create(organization=organization, **serializer.validated_data)
        return Response(_row(created, organization.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, organization_pk: str, key: str) -> Response:
        organization = self.organization
        if isinstance(request.data, dict) and "key" in request.data and request.data["key"] != key:
            raise errors.ValidationFailed(field_errors={"key": ["A touchpoint's key never changes (items carry "
                                                                "it); rename it with name_ja and name_en."]})
        body = {k: v for k, v in request.data.items() if k != "key"} if isinstance(request.data, dict) else {}
        unknown = sorted(set(body) - set(s.TouchpointUpdateSerializer().fields))
        if unknown:
            raise errors.ValidationFailed(field_errors={str(name)[:100]: ["Unknown field."] for name in unknown})
        serializer = s.TouchpointUpdateSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        updated = services.touchpoint_update(organization=organization, key=key, changes=serializer.validated_data)
        return Response(_row(updated, organization.pk))

    def destroy(self, request: Request, organization_pk: str, key: str) -> Response:
        services.touchpoint_delete(organization=self.organization, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Put the touchpoints in a new journey order (admin)",
                   description="`keys` names every touchpoint exactly once (400 naming `keys` otherwise).",
                   request=s.TouchpointReorderSerializer,
                   responses={200: s.TouchpointSerializer(many=True), **errs(*WRITE)})
    @action(detail=False, methods=["post"])
    def reorder(self, request: Request, organization_pk: str) -> Response:
        organization = self.organization
        serializer = s.TouchpointReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.touchpoint_reorder(organization=organization, keys=serializer.validated_data["keys"])
        return Response(_rows(selectors.touchpoint_list(organization_id=organization.pk)))
