"""The executives' report page: the waves of your organizations, each downloadable as a PDF in ja or en.

Server-rendered and usable without JavaScript: requesting a report redirects
to its job page, which refreshes itself until the PDF is ready.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reports.api.views import audit_report_download, audit_report_request, visible_jobs, visible_waves
from reports.jobs import report_job_request, report_jobs_sweep_stale
from reports.models import ReportJob, ReportStatus
from surveys.models import Membership

LOGIN_URL = reverse_lazy("login")


def _base_template() -> str:
    # The forms' base template when the public forms are installed; ours otherwise.
    return select_template(["surveys/base.html", "reports/base.html"]).template.name


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"base_template": _base_template(), **context}, status=status)


@require_GET
@login_required(login_url=LOGIN_URL)
def report_index(request: HttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    waves = list(visible_waves(request.user).select_related("organization").order_by("organization__name",
                                                                                      "-created_at"))
    latest: dict[tuple[int, str], object] = {}
    for job in visible_jobs(request.user).filter(status=ReportStatus.DONE).order_by("created_at"):
        latest[(job.wave_id, job.language)] = job
    rows = [{"wave": w, "ja": latest.get((w.pk, "ja")), "en": latest.get((w.pk, "en"))} for w in waves]
    return _render(request, "reports/index.html", {"rows": rows, "memberships": memberships})


@require_POST
@login_required(login_url=LOGIN_URL)
def report_request(request: HttpRequest, wave_id: int, language: str) -> HttpResponse:
    if language not in ("ja", "en"):
        raise Http404
    wave = get_object_or_404(visible_waves(request.user).select_related("previous_wave"), pk=wave_id)
    previous = wave.previous_wave
    compare = previous if previous is not None and previous.organization_id == wave.organization_id else None
    job, created = report_job_request(wave=wave, user=request.user, language=language, compare_wave=compare)
    audit_report_request(request=request, wave=wave, job=job, created=created, via="page")
    return redirect("reports:job", pk=job.pk)


@require_GET
@login_required(login_url=LOGIN_URL)
def report_job(request: HttpRequest, pk: str) -> HttpResponse:
    report_jobs_sweep_stale()
    try:
        job = visible_jobs(request.user).get(pk=pk)
    except ReportJob.DoesNotExist:  # unknown, or another organization's: the same plain 404
        raise Http404 from None
    return _render(request, "reports/job.html", {"job": job, "refresh": not job.is_finished,
                                                 "title": _("Report")})


@require_GET
@login_required(login_url=LOGIN_URL)
def report_download(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        job = visible_jobs(request.user).get(pk=pk)
    except ReportJob.DoesNotExist:
        raise Http404 from None
    if job.status != ReportStatus.DONE or not job.file:
        return redirect("reports:job", pk=job.pk)
    audit_report_download(request=request, job=job, via="page")
    return FileResponse(job.file.open("rb"), content_type="application/pdf", as_attachment=True,
                        filename=job.filename())
