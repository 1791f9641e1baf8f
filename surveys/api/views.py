"""The staff API under /api/v1/: organizations, memberships, instruments, waves, invitations,
responses and customer accounts.

Views stay thin and share one API layer with the report API (backend/api/): selectors
decide visibility (another organization's object is 404), roles decide 403, services
do the writes and raise surveys.errors, which backend.api.errors turns into
``{"detail", "code"}``.

Why one file: it is the staff API's URL table in code, one short viewset per resource
in the router's order (surveys/api/urls.py), each declaring its roles next to its
schema, which is how tests/surveys/api/test_api_permissions.py reads them; the logic
lives in services and selectors. Split it by resource if a viewset grows logic of its own.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, parsers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from backend.api.base import WAVE_PK, KagamiAPIMixin, WaveNestedMixin
from backend.api.permissions import ADMIN, READERS, required_roles
from backend.api.schema import DETAIL, ERROR_TEXT, READ, WRITE, errs
from backend.ids import parse_id
from surveys import (
    disclosure,
    errors,
    exports,
    import_jobs,
    imports,
    internal,
    invitation_batches,
    member_invitations,
    microdata,
    notifications,
    selectors,
    services,
)
from surveys.api import filters
from surveys.api import serializers as s
from surveys.api.import_job_serializers import ImportJobSerializer
from surveys.instruments import items as instrument_items
from surveys.models import (
    AuditEvent,
    CustomerAccount,
    Instrument,
    Invitation,
    ItemPair,
    Membership,
    MembershipInvitation,
    Organization,
    Side,
    SurveyResponse,
    Wave,
    WaveStatus,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_IMPORT_JOB_TEXT = ("More rows than KAGAMI_IMPORT_SYNC_ROWS (1,000 by default): the file is imported by a "
                    "background job; poll GET /api/v1/import-jobs/{id}/ (the Location header).")


# --------------------------------------------------------------------------- auth and me


class AuthTokenView(APIView):
    """POST exchanges a password for a token (no authentication: a stale token must not block a login);
    DELETE revokes the caller's own token."""

    parser_classes = [parsers.JSONParser, parsers.FormParser]

    def _revoking(self) -> bool:
        # Django's View.setup() has set self.request (the HttpRequest) before DRF asks for authenticators;
        # schema introspection may build the view without one.
        request = getattr(self, "request", None)
        return request is None or request.method == "DELETE"

    def get_authenticators(self) -> list:
        return super().get_authenticators() if self._revoking() else []

    def get_permissions(self) -> list:
        return [IsAuthenticated()] if self._revoking() else [AllowAny()]

    @extend_schema(
        tags=["auth"],
        summary="Obtain an API token",
        description='Exchange a username and password for a token; send it as "Authorization: Token <token>".',
        request=s.AuthTokenRequestSerializer,
        responses={200: s.AuthTokenResponseSerializer, **errs(400, 413, 415, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > 16_384:
            raise errors.PayloadTooLarge()
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(
        tags=["auth"],
        summary="Revoke your API token",
        description="Deletes the caller's token: it stops working at once. The next POST issues a new one.",
        request=None,
        responses={204: None, **errs(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], summary="The current user and their memberships",
               responses={200: s.MeSerializer, **errs(401)})
class MeView(KagamiAPIMixin, APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(request.user).data)


# --------------------------------------------------------------------------- organizations


@extend_schema_view(
    list=extend_schema(summary="Your organizations",
                       responses={200: s.OrganizationSerializer(many=True), **errs(*READ)}),
    retrieve=extend_schema(summary="One of your organizations",
                           responses={200: s.OrganizationSerializer, **errs(*DETAIL)}),
)
@extend_schema(tags=["organizations"])
class OrganizationViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = s.OrganizationSerializer
    queryset = Organization.objects.none()  # for the schema; get_queryset scopes the real one

    def get_queryset(self):
        return selectors.organization_list(org_ids=self.visible_org_ids())

    def object_organization_id(self, obj: Organization) -> int:
        return obj.pk


# --------------------------------------------------------------------------- memberships


@extend_schema_view(
    list=extend_schema(summary="Members of your organizations (admin, analyst)",
                       responses={200: s.MembershipSerializer(many=True), **errs(400, *READ)}),
    retrieve=extend_schema(summary="One membership", responses={200: s.MembershipSerializer, **errs(*DETAIL)}),
    create=extend_schema(
        summary="Invite an e-mail address to join an organization (admin)",
        description=(
            "Mails a link to /accounts/join/<token>/ (valid 7 days, once); the person becomes a member with "
            "`role` only by accepting there, logged in or creating an account. The answer is the same whoever "
            "(if anyone) has the address; a pending invitation of the same address is replaced. 400 on `email` "
            "when a member of the organization has the address; `username` is no longer accepted."
        ),
        request=s.MembershipInvitationCreateSerializer,
        responses={202: s.MembershipInvitationSerializer, **errs(*WRITE)}),
    partial_update=extend_schema(summary="Change a member's role (admin)", request=s.MembershipRoleSerializer,
                                 responses={200: s.MembershipSerializer, **errs(*WRITE, 409)}),
    destroy=extend_schema(summary="Remove a member (admin)", responses={204: None, **errs(*DETAIL, 409)}),
)
@extend_schema(tags=["organizations"])
class MembershipViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = s.MembershipSerializer
    queryset = Membership.objects.none()
    read_roles = READERS
    filterset_class = filters.MembershipFilter

    def get_queryset(self):
        return selectors.membership_list(org_ids=self.visible_org_ids())

    def create(self, request: Request) -> Response:
        serializer = s.MembershipInvitationCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.require_role(data["organization"].pk, ADMIN)
        invitation = member_invitations.invite(organization=data["organization"], email=data["email"],
                                               role=data["role"], language=data["language"], invited_by=request.user)
        return Response(s.MembershipInvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    def partial_update(self, request: Request, pk: str) -> Response:
        membership = self.get_object()
        serializer = s.MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_set_role(membership=membership, role=serializer.validated_data["role"])
        return Response(s.MembershipSerializer(membership).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.membership_delete(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Membership invitations of your organizations (admin)",
                       responses={200: s.MembershipInvitationSerializer(many=True), **errs(400, *READ)}),
    destroy=extend_schema(summary="Revoke a membership invitation (admin)",
                          description="Its link stops working. Revoking twice is harmless; 409 `invitation_used` "
                                      "once accepted (remove the member instead).",
                          responses={204: None, **errs(*DETAIL, 409)}),
)
@extend_schema(tags=["organizations"])
class MembershipInvitationViewSet(KagamiAPIMixin, mixins.ListModelMixin, GenericViewSet):
    serializer_class = s.MembershipInvitationSerializer
    queryset = MembershipInvitation.objects.none()
    read_roles = ADMIN
    filterset_class = filters.MembershipInvitationFilter

    def get_queryset(self):
        return member_invitations.invitation_list(org_ids=self.visible_org_ids())

    def destroy(self, request: Request, pk: str) -> Response:
        member_invitations.revoke(invitation=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Send a membership invitation again, with a fresh link (admin)",
                   description="The previous link stops working; the new one is valid for 7 days. 409 "
                               "`invitation_used` or `invitation_revoked`.",
                   request=None, responses={200: s.MembershipInvitationSerializer, **errs(*DETAIL, 409)})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        invitation = member_invitations.resend(invitation=self.get_object(), user=request.user)
        return Response(s.MembershipInvitationSerializer(invitation).data)


# --------------------------------------------------------------------------- instruments

_FROZEN_DOC = ("A version used by a wave (or built in) is frozen: 409 `instrument_frozen`, as for the version "
               "itself; create a new version (`POST /instruments/{id}/versions/`) and change that.")


@extend_schema_view(
    list=extend_schema(summary="Built-in instruments and your organizations' instruments",
                       responses={200: s.InstrumentSummarySerializer(many=True), **errs(400, *READ)}),
    retrieve=extend_schema(summary="An instrument version with its dimensions and items",
                           responses={200: s.InstrumentDetailSerializer, **errs(*DETAIL)}),
    create=extend_schema(summary="Create a custom instrument (admin)", request=s.InstrumentCreateSerializer,
                         responses={201: s.InstrumentDetailSerializer, **errs(*WRITE)}),
    update=extend_schema(
        summary="Replace an editable version's texts and all its dimensions and items (admin)",
        description=(
            "Destructive, so explicit: without `\"replace_items\": true` it is a 400 naming `replace_items`. "
            "To change one item, use `/instruments/{id}/items/`. "
            "A version used by a wave is frozen: 409 `instrument_frozen`; create a new version."
        ),
        request=s.InstrumentUpdateSerializer, responses={200: s.InstrumentDetailSerializer, **errs(*WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Change an editable version's texts (admin)",
        description=(
            "Never replaces items: a body with `items` or `dimensions` is a 400 naming them; add, edit and "
            "retire items under `/instruments/{id}/items/`, or replace them all with PUT and "
            "`\"replace_items\": true`. A version used by a wave is frozen: 409 `instrument_frozen`."
        ),
        request=s.InstrumentTextsSerializer, responses={200: s.InstrumentDetailSerializer, **errs(*WRITE, 409)},
    ),
)
@extend_schema(tags=["instruments"])
class InstrumentViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = Instrument.objects.none()
    filterset_class = filters.InstrumentFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.instrument_list(org_ids=self.visible_org_ids())
        return selectors.instrument_detail_queryset(org_ids=self.visible_org_ids())

    def get_serializer_class(self):
        return s.InstrumentSummarySerializer if self.action == "list" else s.InstrumentDetailSerializer

    def _detail(self, instrument: Instrument, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.instrument_detail_queryset(org_ids=self.org_ids()).get(pk=instrument.pk)
        return Response(s.InstrumentDetailSerializer(fresh).data, status=code)

    def create(self, request: Request) -> Response:
        serializer = s.InstrumentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        self.require_role(organization.pk, ADMIN)
        instrument = services.instrument_create(
            organization=organization, key=data.pop("key"), dimensions=data.pop("dimensions"),
            items=data.pop("items"), texts=data,
        )
        return self._detail(instrument, status.HTTP_201_CREATED)

    def _update(self, request: Request, partial: bool) -> Response:
        instrument = self.get_object()
        # A frozen version cannot change at all: say so before judging the body.
        services.instrument_ensure_editable(instrument=instrument)
        data = request.data
        if not isinstance(data, dict):
            raise errors.ValidationFailed(field_errors={"non_field_errors": ["Expected an object."]})
        _refuse_silent_replacement(instrument, data, partial)
        if partial:
            data = {"name_ja": instrument.name_ja, "name_en": instrument.name_en, **data}
        serializer = s.InstrumentUpdateSerializer(data=data, context={"replace": not partial})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("replace_items", None)
        dimensions, items = data.pop("dimensions", None), data.pop("items", None)
        instrument = services.instrument_update(instrument=instrument, texts=data, dimensions=dimensions, items=items)
        return self._detail(instrument)

    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        summary="Copy an instrument (built-in or your own) into an organization as version 1 of a key (admin)",
        request=s.InstrumentCloneSerializer, responses={201: s.InstrumentDetailSerializer, **errs(*WRITE)},
    )
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, pk: str) -> Response:
        source = self.get_object()
        serializer = s.InstrumentCloneSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        organization = serializer.validated_data["organization"]
        self.require_role(organization.pk, ADMIN)
        copy = services.instrument_clone(source=source, organization=organization,
                                         key=serializer.validated_data.get("key"))
        return self._detail(copy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create the next, editable version of an instrument (admin)",
        request=None, responses={201: s.InstrumentDetailSerializer, **errs(*WRITE)},
    )
    @action(detail=True, methods=["post"])
    def versions(self, request: Request, pk: str) -> Response:
        instrument = services.instrument_new_version(instrument=self.get_object())
        return self._detail(instrument, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add an optional module set to an editable version (admin)",
        description=(
            "`experience_modules` adds five dimensions (sense, feel, think, act, relate; module "
            "`experience_modules`) of three matched pairs each after the version's own. 400 naming `module` "
            "for an unknown module, one already present or a key the version already uses. " + _FROZEN_DOC
            + " A wave can also ask for modules when it is created (`modules` on POST /waves/)."
        ),
        request=s.InstrumentModuleSerializer, responses={200: s.InstrumentDetailSerializer, **errs(*WRITE, 409)},
    )
    @action(detail=True, methods=["post"])
    def modules(self, request: Request, pk: str) -> Response:
        instrument = self.get_object()
        serializer = s.InstrumentModuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instrument = services.instrument_add_module(instrument=instrument,
                                                    module=serializer.validated_data["module"])
        return self._detail(instrument)


def _refuse_silent_replacement(instrument: Instrument, data: dict, partial: bool) -> None:
    # Replacing dimensions and items deletes every one of them: only a PUT that says so (issue 13, item 7).
    items_url = f"/api/v1/instruments/{instrument.pk}/items/"
    if partial:
        hint = (f"PATCH never replaces items: add, edit or retire them one at a time under {items_url}, or "
                'replace every dimension and item with PUT and "replace_items": true.')
        problems = {name: [hint] for name in ("items", "dimensions", "replace_items") if name in data}
    elif data.get("replace_items") is not True:
        problems = {"replace_items": ['Must be true (JSON): this PUT deletes every dimension and item of the '
                                      f"version and creates those sent. To change one item, use {items_url}."]}
    else:
        problems = {}
    if problems:
        raise errors.ValidationFailed(field_errors=problems)


# --------------------------------------------------------------------------- instrument items


INSTRUMENT_PK = OpenApiParameter("instrument_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                                 description="The instrument version's id.")
# Set by the retire action only: a client that sends them is told so instead of being ignored.
_ITEM_ACTION_FIELDS = ("retired_at", "is_retired")


@extend_schema_view(
    list=extend_schema(summary="Every item of an instrument version, retired ones included",
                       responses={200: s.ItemPairDetailSerializer(many=True), **errs(*DETAIL)}),
    retrieve=extend_schema(summary="One item", responses={200: s.ItemPairDetailSerializer, **errs(*DETAIL)}),
    create=extend_schema(
        summary="Add an item to an editable version (admin)",
        description=f"Without `order` it comes last. {_FROZEN_DOC}",
        request=s.ItemPairWriteSerializer, responses={201: s.ItemPairDetailSerializer, **errs(*WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Change an item of an editable version (admin)",
        description=("Fields not sent keep their values; the result is checked as a whole (changing `kind` or "
                     f"`scale_points` without `topbox_levels` resets them to the top two levels). {_FROZEN_DOC}"),
        request=s.ItemPairWriteSerializer, responses={200: s.ItemPairDetailSerializer, **errs(*WRITE, 409)},
    ),
)
@extend_schema(tags=["instruments"], parameters=[INSTRUMENT_PK])
class InstrumentItemViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = s.ItemPairDetailSerializer
    queryset = ItemPair.objects.none()
    pagination_class = None  # at most 200 items, as in the instrument's own detail
    filter_backends: list = []

    kwargs: dict[str, Any]

    @cached_property
    def instrument(self) -> Instrument:
        """The version named by the URL: visible (else 404), then the role decides (else 403)."""
        instrument_pk = self.kwargs.get("instrument_pk")
        pk = parse_id(instrument_pk)
        if pk is None:
            raise exceptions.NotFound()
        instrument = get_object_or_404(selectors.instrument_list(org_ids=self.org_ids()), pk=pk)
        needed = required_roles(self, self.request)
        if instrument.organization_id is not None:
            self.require_role(instrument.organization_id, needed)
        elif not any(role in needed for role in self.roles.values()):
            # Built-in: anyone reads; a write needs the role somewhere and then meets the service's 409.
            raise exceptions.PermissionDenied("Your role does not allow this.")
        return instrument

    def object_organization_id(self, obj: Any) -> int | None:
        return self.instrument.organization_id

    def get_queryset(self):
        return instrument_items.item_list(instrument=self.instrument)

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        self.instrument  # noqa: B018 - the roles were decided with the instrument (404, then 403)

    @staticmethod
    def _body(request: Request, current: dict | None = None) -> dict:
        """The writable fields sent. An item read by GET may be sent back whole: its read-only fields are
        ignored while they are unchanged; a changed one, or a field items do not have, is a 400."""
        data = request.data
        if not isinstance(data, dict):
            raise errors.ValidationFailed(field_errors={"non_field_errors": ["Expected an object."]})
        current = current or {"retired_at": None, "is_retired": False}
        problems: dict[str, list[str]] = {}
        for name, value in data.items():
            if name in instrument_items.ITEM_WRITABLE_FIELDS:
                continue
            if name in _ITEM_ACTION_FIELDS:
                if value != current.get(name):
                    problems[name] = ["Read-only: retire an item with POST …/items/{id}/retire/."]
            elif name in s.ItemPairDetailSerializer.Meta.fields:
                if name in current and value != current[name]:
                    problems[name] = ["Read-only."]
            else:
                problems[str(name)[:100]] = ["Unknown field."]
        if problems:
            raise errors.ValidationFailed(field_errors=problems)
        return {name: value for name, value in data.items() if name in instrument_items.ITEM_WRITABLE_FIELDS}

    def create(self, request: Request, instrument_pk: str) -> Response:
        instrument = self.instrument
        services.instrument_ensure_editable(instrument=instrument)  # 409 before judging the body
        serializer = s.ItemPairWriteSerializer(data=self._body(request))
        serializer.is_valid(raise_exception=True)
        item = instrument_items.item_add(instrument=instrument, spec=serializer.validated_data)
        return Response(s.ItemPairDetailSerializer(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, instrument_pk: str, pk: str) -> Response:
        item = self.get_object()
        services.instrument_ensure_editable(instrument=self.instrument)
        change = self._body(request, current=s.ItemPairDetailSerializer(item).data)
        merged = {**instrument_items.item_values(item=item), **change}
        if ("kind" in change or "scale_points" in change) and "topbox_levels" not in change:
            merged.pop("topbox_levels")  # the defaults of the new scale, not the old scale's levels
        serializer = s.ItemPairWriteSerializer(data=merged)
        serializer.is_valid(raise_exception=True)
        item = instrument_items.item_update(item=item, spec=serializer.validated_data)
        return Response(s.ItemPairDetailSerializer(item).data)

    @extend_schema(
        summary="Retire an item of an editable version (admin)",
        description=(
            "The item stays (key, wordings, and any answers of past waves, which belong to frozen versions) but "
            "is not asked in this version's waves and leaves the gap engine's item lists. Retiring twice "
            "changes nothing; the last asked item cannot be retired (409 `last_item`). A new version keeps it "
            f"retired. {_FROZEN_DOC}"
        ),
        request=None, responses={200: s.ItemPairDetailSerializer, **errs(*DETAIL, 409)},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, instrument_pk: str, pk: str) -> Response:
        item = instrument_items.item_retire(item=self.get_object())
        return Response(s.ItemPairDetailSerializer(item).data)


# --------------------------------------------------------------------------- waves


_TRANSITION_DOC = "Invalid transitions answer 409 `invalid_transition`."


@extend_schema_view(
    list=extend_schema(summary="Waves of your organizations", responses={200: s.WaveSerializer(many=True),
                                                                          **errs(400, *READ)}),
    retrieve=extend_schema(summary="A wave with its anonymous links, response counts and response rates",
                           responses={200: s.WaveSerializer, **errs(*DETAIL)}),
    create=extend_schema(summary="Create a draft wave (admin); freezes the instrument version",
                         request=s.WaveWriteSerializer, responses={201: s.WaveSerializer, **errs(*WRITE)}),
    partial_update=extend_schema(summary="Change a wave's settings (admin); status changes through open/close/reopen",
                                 request=s.WaveWriteSerializer, responses={200: s.WaveSerializer, **errs(*WRITE)}),
)
@extend_schema(tags=["waves"])
class WaveViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = s.WaveSerializer
    queryset = Wave.objects.none()
    filterset_class = filters.WaveFilter

    def get_queryset(self):
        return selectors.wave_list(org_ids=self.visible_org_ids())

    def _detail(self, wave: Wave, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.WaveSerializer(wave, context={"detail": True}).data, status=code)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(self.get_object())

    def create(self, request: Request) -> Response:
        serializer = s.WaveWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        self.require_role(organization.pk, ADMIN)
        try:
            wave = services.wave_create(organization=organization, instrument=data.pop("instrument"),
                                        name=data.pop("name"), slug=data.pop("slug"), user=request.user, **data)
        except IntegrityError:
            # Two creations racing for one slug: the database decides.
            raise errors.ValidationFailed(field_errors={"slug": ["This slug is already in use."]}) from None
        return self._detail(wave, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        wave = self.get_object()
        if isinstance(request.data, dict) and "status" in request.data:
            raise errors.ValidationFailed(field_errors={"status": ["Use the open, close and reopen actions."]})
        serializer = s.WaveWriteSerializer(wave, data=request.data, partial=True,
                                           context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                wave = services.wave_update(wave=wave, user=request.user, **serializer.validated_data)
        except IntegrityError:
            raise errors.ValidationFailed(field_errors={"slug": ["This slug is already in use."]}) from None
        return self._detail(wave)

    def _transition(self, target: str, reopen: bool = False) -> Response:
        wave = services.wave_set_status(wave=self.get_object(), status=target, reopen=reopen)
        return self._detail(wave)

    @extend_schema(summary="Open a draft wave (admin)", description=_TRANSITION_DOC, request=None,
                   responses={200: s.WaveSerializer, **errs(*DETAIL, 409)})
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str) -> Response:
        return self._transition(WaveStatus.OPEN)

    @extend_schema(summary="Close an open wave (admin)", description=_TRANSITION_DOC, request=None,
                   responses={200: s.WaveSerializer, **errs(*DETAIL, 409)})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._transition(WaveStatus.CLOSED)

    @extend_schema(summary="Reopen a closed wave, explicitly (admin)", description=_TRANSITION_DOC, request=None,
                   responses={200: s.WaveSerializer, **errs(*DETAIL, 409)})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self._transition(WaveStatus.OPEN, reopen=True)


# --------------------------------------------------------------------------- invitations


def _check_upload(upload: Any) -> None:
    if upload.size > settings.KAGAMI_MAX_IMPORT_BYTES:
        message = f"The file is larger than {settings.KAGAMI_MAX_IMPORT_BYTES} bytes."
        raise errors.ImportTooLarge([{"row": 0, "column": "", "message": message}], detail=message)


def _import_job_or_none(request: Request, **kwargs: Any) -> Response | None:
    """202 with a queued job for a file over KAGAMI_IMPORT_SYNC_ROWS rows (after the checks of
    surveys/import_jobs.py: header 400, rows or bytes 413), else None: the caller imports in the request."""
    job = import_jobs.import_job_queue_if_large(user=request.user, **kwargs)
    if job is None:
        return None
    response = Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = request.build_absolute_uri(f"/api/v1/import-jobs/{job.pk}/")
    return response


def _issued_payload(issued: list[services.IssuedInvitation], sent: int, skipped: list[dict]) -> dict:
    # A staff link goes to its invitee only, by email, never back to whoever created it: kept, it would say
    # later whether that colleague answered ("already answered" versus the form; P1, no linkage).
    return {
        "created": len(issued),
        "sent": sent,
        "skipped": skipped,
        "invitations": [
            {"invitation": s.InvitationSerializer(item.invitation).data,
             "link": None if internal.protected_side(item.invitation.wave, item.invitation.side)
             else selectors.invitation_url(token=item.token)}
            for item in issued
        ],
    }


@extend_schema_view(
    list=extend_schema(summary="A wave's invitations and their status (admin, analyst)",
                       description=("Never anything that ties a staff invitation to a response: for staff, "
                                    "status is delivery only (pending or sent, answered or not) and the "
                                    "reminder fields are null (disclosure promise P1, no linkage)."),
                       responses={200: s.InvitationSerializer(many=True), **errs(400, *DETAIL)}),
    create=extend_schema(
        summary="Create invitations from a list of contacts (admin)",
        description=(
            "All or nothing: any bad contact → 400 naming `contacts[i].<field>`, nothing created. "
            "Each created customer invitation is returned once with its link (only a hash is stored). "
            "Staff invitations never come back with a link (`link` is null): a staff link is only ever emailed "
            "to the address on its invitation, since whoever else kept it could open it later and see whether "
            "that colleague answered (disclosure promise P1, no linkage). So every staff contact needs an "
            "`email` (else 400 `contacts[i].email`; people without one answer through the wave's anonymous "
            "staff link); a staff invitation is mailed now (`send=true`) or later (`send_invitations`, resend). "
            "`send=true` emails every contact with an address (open waves only: 409 `wave_not_open`)."
        ),
        request=s.InvitationBulkCreateSerializer,
        responses={201: s.InvitationIssueResultSerializer, **errs(*WRITE, 409)},
    ),
)
@extend_schema(tags=["invitations"], parameters=[WAVE_PK])
class WaveInvitationViewSet(WaveNestedMixin, mixins.ListModelMixin, GenericViewSet):
    serializer_class = s.InvitationSerializer
    queryset = Invitation.objects.none()
    read_roles = READERS
    filterset_class = filters.InvitationFilter

    def get_queryset(self):
        return selectors.invitation_list(wave=self.wave)

    def create(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        serializer = s.InvitationBulkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invitation_batches.check_wave_accepts_invitations(wave, send=data["send"])
        issued = invitation_batches.invitations_create_batch(
            wave=wave, side=data["side"],
            contacts=[invitation_batches.Contact(email=c["email"], name=c["name"], language=c["language"],
                                                 account=c["account"], segments=c["segments"])
                      for c in data["contacts"]])
        sent = notifications.invitations_send(issued=issued).sent if data["send"] else 0
        return Response(_issued_payload(issued, sent, []), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Import invitations from a CSV or XLSX file (admin)",
        description=(
            "Columns: email, name, language, account (customers), and the wave's segment keys. "
            "All or nothing unless `skip_bad_rows`; errors list each row and column. "
            "As for create: customer invitations come back once with their link, staff ones never (`link` is "
            "null; their link is only ever emailed to their address, disclosure promise P1), so a staff row "
            "without an email is a bad row (column `email`)."
        ),
        request={"multipart/form-data": s.InvitationImportSerializer},
        responses={201: s.InvitationIssueResultSerializer,
                   202: OpenApiResponse(ImportJobSerializer, description=_IMPORT_JOB_TEXT),
                   400: OpenApiResponse(s.ImportErrorResponseSerializer, description=ERROR_TEXT[400]),
                   **errs(401, 403, 404, 409, 413, 415)},
    )
    @action(detail=False, methods=["post"], url_path="import",
            parser_classes=[parsers.MultiPartParser, parsers.FormParser])
    def import_file(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        serializer = s.InvitationImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_upload(data["file"])
        invitation_batches.check_wave_accepts_invitations(wave, send=data["send"])
        content = data["file"].read()
        queued = _import_job_or_none(request, kind="invitations", organization=wave.organization, wave=wave,
                                     side=data["side"], data=content, filename=data["file"].name or "",
                                     options={"skip_bad_rows": data["skip_bad_rows"], "send": data["send"]})
        if queued is not None:
            return queued
        with services.staff_invitations_by_email_only():
            result = imports.import_invitations(wave=wave, side=data["side"], data=content,
                                                filename=data["file"].name or "",
                                                skip_bad_rows=data["skip_bad_rows"],
                                                max_rows=settings.KAGAMI_IMPORT_MAX_ROWS)
        issued = list(result.objects)
        sent = notifications.invitations_send(issued=issued).sent if data["send"] else 0
        return Response(_issued_payload(issued, sent, list(result.skipped)), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remind everyone invited and not yet answered (admin; open waves only)",
        description=(
            "Each reminder carries a fresh link; the earlier ones keep working (one answer per invitation in "
            "total). Invitations mailed less than KAGAMI_REMINDER_COOLDOWN_HOURS (default 24) ago are not "
            "reminded again and are listed in `skipped` (reason `cooldown`). Counts are the customers' only. "
            "Staff reminders also reach only those who have not answered, "
            "but the answer says just `staff_queued`: how many were reminded is how many have not answered, "
            "which one colleague's answer would change (disclosure promise P1, no linkage)."
        ),
        request=s.InvitationRemindSerializer,
        responses={200: s.InvitationRemindResultSerializer, **errs(*WRITE, 409)},
    )
    @action(detail=False, methods=["post"])
    def remind(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        serializer = s.InvitationRemindSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        side = serializer.validated_data["side"]
        report = notifications.invitations_deliver(wave=wave, side=side, reminder=True)
        customers = side in (None, Side.CUSTOMER) and not internal.is_internal(wave)  # employees: as staff
        body: dict[str, Any] = report.as_dict() if customers else dict.fromkeys(report.as_dict())
        body["staff_queued"] = side in (None, Side.STAFF)
        body["skipped"] = report.skipped
        return Response(s.InvitationRemindResultSerializer(body).data)


@extend_schema(tags=["invitations"])
class InvitationViewSet(KagamiAPIMixin, GenericViewSet):
    serializer_class = s.InvitationSerializer
    queryset = Invitation.objects.none()
    read_roles = READERS

    def get_queryset(self):
        return selectors.invitation_lookup(org_ids=self.visible_org_ids())

    def object_organization_id(self, obj: Invitation) -> int:
        return obj.wave.organization_id

    @extend_schema(
        summary="Send an unanswered invitation again, with a fresh link (admin; open waves only)",
        description=(
            "Only a hash of the token is stored, so resending issues a new token; the links sent or returned "
            "earlier keep working (one answer per invitation in total; to kill them, use reissue). "
            "409 `wave_not_open` unless the wave is open. Customers: 409 `already_answered` when it was used. "
            "Staff (disclosure promise P1, no linkage): the same answer whether it was used or not — a used one "
            "is simply not mailed again — and never a link (a new link for unused ones only would tell)."
        ),
        request=None,
        responses={200: s.InvitationResendResultSerializer, **errs(*DETAIL, 409)},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        return self._send_again(self.get_object(), keep_previous=True)

    @extend_schema(
        summary="Replace an unanswered invitation's links with a fresh one, and mail it (admin; open waves only)",
        description=(
            "For a link that leaked or a mailbox that changed hands: every earlier link of the invitation stops "
            "working, and its page says a newer e-mail replaced it (410 `link_replaced`). Otherwise as resend: "
            "409 `wave_not_open` unless the wave is open; customers: 409 `already_answered` when it was used, "
            "else the new link; staff (P1): the same answer used or not, never a link (a used one is not mailed, "
            "and its links are left as they are)."
        ),
        request=None,
        responses={200: s.InvitationResendResultSerializer, **errs(*DETAIL, 409)},
    )
    @action(detail=True, methods=["post"])
    def reissue(self, request: Request, pk: str) -> Response:
        return self._send_again(self.get_object(), keep_previous=False)

    def _send_again(self, invitation: Invitation, *, keep_previous: bool) -> Response:
        again = notifications.invitation_send_again(invitation=invitation, keep_previous=keep_previous)
        return Response({
            "invitation": s.InvitationSerializer(again.invitation).data,
            "sent": again.sent,
            "link": selectors.invitation_url(token=again.token) if again.token else None,
        })


# --------------------------------------------------------------------------- responses


SIDE_PARAM = OpenApiParameter("side", OpenApiTypes.STR, enum=list(Side.values), required=False,
                              description="Only this side.")


@extend_schema_view(
    list=extend_schema(
        summary="A wave's published responses (admin, analyst)",
        description=(
            "Only published responses (results change release by release, at least k responses at a time). "
            "Staff rows are k-anonymous microdata (disclosure promise P6): their group's released segment "
            "values and the answers of items their group answered at least k times; no id, day, channel, "
            "language or comment. Customer rows carry their account and time. Every call is audited."
        ),
        responses={200: s.SurveyResponseSerializer(many=True), **errs(400, *DETAIL)},
    ),
)
@extend_schema(tags=["responses"], parameters=[WAVE_PK])
class WaveResponseViewSet(WaveNestedMixin, mixins.ListModelMixin, GenericViewSet):
    serializer_class = s.SurveyResponseSerializer
    queryset = SurveyResponse.objects.none()
    read_roles = READERS
    filterset_class = filters.SurveyResponseFilter

    def get_queryset(self):
        return selectors.response_list(wave=self.wave)

    def list(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        queryset = self.filter_queryset(self.get_queryset())  # publishes what is due (selectors.response_list)
        staff_plan = microdata.side_plan(wave, Side.STAFF)
        if not staff_plan.released:
            queryset = queryset.exclude(side=Side.STAFF)
        services.audit_record(organization_id=wave.organization_id, user=request.user,
                              action=AuditEvent.Action.RESPONSE_LIST, wave=wave,
                              details={"side": request.query_params.get("side") or "all"})
        page = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), "staff_plan": staff_plan}
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)


    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # ?format=csv|xlsx belongs to the export, not to DRF's renderer override; errors stay JSON.
        if self.action == "export":
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        summary="Download a wave's responses as CSV (streamed, UTF-8 with BOM) or XLSX (admin, analyst)",
        description="Cells that a spreadsheet would run as formulas are neutralized.",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], required=False,
                             description="csv (default) or xlsx."),
            SIDE_PARAM,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX file"),
            **errs(400, *DETAIL),
        },
        filters=False,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def export(self, request: Request, wave_pk: str) -> HttpResponse:
        wave = self.wave
        fmt = request.query_params.get("format", "csv")
        side = request.query_params.get("side") or None
        problems: dict[str, list[str]] = {}
        if fmt not in ("csv", "xlsx"):
            problems["format"] = ["Must be csv or xlsx."]
        if side is not None and side not in Side.values:
            problems["side"] = ["Must be staff or customer."]
        if problems:
            raise errors.ValidationFailed(field_errors=problems)
        filename = f"{wave.slug}-responses{'-' + side if side else ''}.{fmt}"
        if fmt == "csv":
            response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
                exports.responses_csv(wave=wave, side=side, user=request.user), content_type="text/csv; charset=utf-8"
            )
        else:
            response = HttpResponse(exports.responses_xlsx(wave=wave, side=side, user=request.user),
                                    content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@extend_schema(tags=["responses"], parameters=[WAVE_PK])
class WaveCommentViewSet(WaveNestedMixin, GenericViewSet):
    """GET /waves/{id}/comments/ — free-text comments, apart from the rows (disclosure promise P6)."""

    serializer_class = s.CommentGroupSerializer
    queryset = SurveyResponse.objects.none()
    read_roles = READERS
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        summary="Comments of a side, per released group (admin, analyst)",
        description=(
            "Free-text comments, separated from the rows: grouped by released group (at least k respondents), "
            "in an order unrelated to time or person. Only published responses. Audited."
        ),
        parameters=[SIDE_PARAM],
        responses={200: s.CommentGroupSerializer(many=True), **errs(400, *DETAIL)},
    )
    def list(self, request: Request, wave_pk: str) -> Response:
        wave = self.wave
        side = request.query_params.get("side") or Side.STAFF
        if side not in Side.values:
            raise errors.ValidationFailed(field_errors={"side": ["Must be staff or customer."]})
        services.audit_record(organization_id=wave.organization_id, user=request.user,
                              action=AuditEvent.Action.COMMENT_LIST, wave=wave, details={"side": side})
        groups = microdata.comment_groups(wave, side)
        data = [{"segments": {k: disclosure.display_value(v) for k, v in g.segments.items()
                              if v != disclosure.NOT_GIVEN},
                 "n_responses": g.n_responses, "comments": g.comments} for g in groups]
        return Response(s.CommentGroupSerializer(data, many=True).data)


# --------------------------------------------------------------------------- customer accounts


@extend_schema_view(
    list=extend_schema(summary="Customer accounts (admin, analyst)",
                       responses={200: s.CustomerAccountSerializer(many=True), **errs(400, *READ)}),
    retrieve=extend_schema(summary="A customer account", responses={200: s.CustomerAccountSerializer,
                                                                    **errs(*DETAIL)}),
    create=extend_schema(summary="Create a customer account (admin)",
                         responses={201: s.CustomerAccountSerializer, **errs(*WRITE)}),
    update=extend_schema(summary="Replace a customer account (admin)",
                         responses={200: s.CustomerAccountSerializer, **errs(*WRITE)}),
    partial_update=extend_schema(summary="Change a customer account (admin)",
                                 responses={200: s.CustomerAccountSerializer, **errs(*WRITE)}),
    destroy=extend_schema(summary="Delete a customer account (admin)", responses={204: None, **errs(*DETAIL)}),
)
@extend_schema(tags=["accounts"])
class CustomerAccountViewSet(KagamiAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = s.CustomerAccountSerializer
    queryset = CustomerAccount.objects.none()
    read_roles = READERS
    filterset_class = filters.CustomerAccountFilter

    def get_queryset(self):
        return selectors.account_list(org_ids=self.visible_org_ids())

    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        self.require_role(organization.pk, ADMIN)
        account = services.account_save(organization=organization, **data)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    def _update(self, request: Request, partial: bool) -> Response:
        account = self.get_object()
        serializer = self.get_serializer(account, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        account = services.account_save(organization=account.organization, account=account,
                                      **serializer.validated_data)
        return Response(self.get_serializer(account).data)

    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.account_delete(account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Import customer accounts from CSV or XLSX, upserting by external_id (admin)",
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={201: s.AccountImportResultSerializer,
                   202: OpenApiResponse(ImportJobSerializer, description=_IMPORT_JOB_TEXT),
                   400: OpenApiResponse(s.ImportErrorResponseSerializer, description=ERROR_TEXT[400]),
                   **errs(401, 403, 413, 415)},
        filters=False,
    )
    @action(detail=False, methods=["post"], url_path="import",
            parser_classes=[parsers.MultiPartParser, parsers.FormParser], filter_backends=[], pagination_class=None)
    def import_file(self, request: Request) -> Response:
        serializer = s.ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.require_role(data["organization"].pk, ADMIN)
        _check_upload(data["file"])
        content = data["file"].read()
        queued = _import_job_or_none(request, kind="accounts", organization=data["organization"], data=content,
                                     filename=data["file"].name or "",
                                     options={"skip_bad_rows": data["skip_bad_rows"]})
        if queued is not None:
            return queued
        result = imports.import_accounts(organization=data["organization"], data=content,
                                         filename=data["file"].name or "", skip_bad_rows=data["skip_bad_rows"],
                                         max_rows=settings.KAGAMI_IMPORT_MAX_ROWS)
        return Response(
            {"created": result.created, "skipped": list(result.skipped),
             "accounts": s.CustomerAccountSerializer(result.objects, many=True).data},
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(summary="Who viewed staff segment results, when, with which filter (admin)",
                       responses={200: s.AuditEventSerializer(many=True), **errs(400, *READ)}),
)
@extend_schema(tags=["organizations"])
class AuditEventViewSet(KagamiAPIMixin, mixins.ListModelMixin, GenericViewSet):
    serializer_class = s.AuditEventSerializer
    queryset = AuditEvent.objects.none()
    read_roles = ADMIN
    filterset_class = filters.AuditEventFilter

    def get_queryset(self):
        return selectors.audit_event_list(org_ids=self.visible_org_ids())
