"""The staff API of the diagnosis, under an organization: its links (admins) and its aggregate (readers).

Visibility first (another organization's id is 404), then the role (403), as everywhere in the staff API
(backend/api). A link's token is in the answer that creates it and nowhere else.
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.base import KagamiAPIMixin
from backend.api.permissions import ADMIN, required_roles
from backend.api.schema import DETAIL, WRITE, errs
from backend.ids import parse_id
from diagnosis import selectors, services
from diagnosis.serializers import (
    DiagnosisLinkCreatedSerializer,
    DiagnosisLinkCreateSerializer,
    DiagnosisLinkSerializer,
    DiagnosisSummarySerializer,
)
from reports.selectors import REPORT_READERS
from surveys import selectors as survey_selectors
from surveys.models import Organization

ORG_PK = OpenApiParameter("org_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The organization's id.")
LINK_PK = OpenApiParameter("pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The link's id.")


class OrganizationNestedMixin(KagamiAPIMixin):
    # Views under /organizations/{org_pk}/: the organization must be visible (else 404), then the role decides.

    @cached_property
    def organization(self) -> Organization:
        org_pk = parse_id(self.kwargs.get("org_pk"))
        if org_pk is None:
            raise exceptions.NotFound()
        org = get_object_or_404(survey_selectors.organization_list(org_ids=self.org_ids()), pk=org_pk)
        self.require_role(org.pk, required_roles(self, self.request))
        return org


def link_url(token: str) -> str:
    return settings.KAGAMI_PUBLIC_URL.rstrip("/") + reverse("diagnosis-link-form", kwargs={"token": token})


class DiagnosisLinksView(OrganizationNestedMixin, APIView):
    read_roles = ADMIN
    write_roles = ADMIN

    @extend_schema(operation_id="organizations_diagnosis_links_list", summary="The organization's diagnosis links "
                   "(admin)", parameters=[ORG_PK], responses={200: DiagnosisLinkSerializer(many=True), **errs(*DETAIL)},
                   tags=["diagnosis"])
    def get(self, request: Request, org_pk: str) -> Response:
        links = selectors.link_list(org_ids=[self.organization.pk])
        return Response(DiagnosisLinkSerializer(links, many=True).data)

    @extend_schema(operation_id="organizations_diagnosis_links_create", summary="Create a diagnosis link (admin)",
                   description="The answer holds the link's token and address, once: only a hash is stored. "
                               "Diagnoses through it count in the organization's aggregate and show how its "
                               "staff and customers saw the same areas in its latest closed wave.",
                   parameters=[ORG_PK], request=DiagnosisLinkCreateSerializer,
                   responses={201: DiagnosisLinkCreatedSerializer, **errs(*WRITE)}, tags=["diagnosis"])
    def post(self, request: Request, org_pk: str) -> Response:
        organization = self.organization
        serializer = DiagnosisLinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link, token = services.link_create(organization=organization,
                                           label=serializer.validated_data.get("label", ""))
        link.token, link.url = token, link_url(token)  # for this answer only; never stored
        return Response(DiagnosisLinkCreatedSerializer(link).data, status=status.HTTP_201_CREATED)


class DiagnosisLinkDeactivateView(OrganizationNestedMixin, APIView):
    read_roles = ADMIN
    write_roles = ADMIN

    @extend_schema(operation_id="organizations_diagnosis_links_deactivate", summary="Switch a diagnosis link off "
                   "(admin)", description="For good: the link then opens nothing, and results through it no "
                   "longer show how staff and customers saw the same areas. Idempotent.", request=None,
                   parameters=[ORG_PK, LINK_PK], responses={200: DiagnosisLinkSerializer, **errs(*DETAIL)},
                   tags=["diagnosis"])
    def post(self, request: Request, org_pk: str, pk: str) -> Response:
        link_pk = parse_id(pk)
        if link_pk is None:
            raise exceptions.NotFound()
        link = get_object_or_404(selectors.link_list(org_ids=[self.organization.pk]), pk=link_pk)
        return Response(DiagnosisLinkSerializer(services.link_deactivate(link=link)).data)


class DiagnosisSummaryView(OrganizationNestedMixin, APIView):
    read_roles = REPORT_READERS

    @extend_schema(operation_id="organizations_diagnosis_summary", summary="The organization's diagnoses in "
                   "aggregate", description=(
                       "The number of results through the organization's links; the mean maturity and the "
                       "distribution per element and area only from k results on, and over whole blocks of k "
                       "results in stored order, so two views never differ by fewer than k people "
                       "(docs/diagnosis.md)."),
                   parameters=[ORG_PK], responses={200: DiagnosisSummarySerializer, **errs(*DETAIL)},
                   tags=["diagnosis"])
    def get(self, request: Request, org_pk: str) -> Response:
        return Response(DiagnosisSummarySerializer(selectors.organization_summary(self.organization)).data)
