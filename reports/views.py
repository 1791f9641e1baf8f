"""The executives' report page: the waves of your organizations, each downloadable as a PDF in ja or en.

Server-rendered and usable without JavaScript: requesting a report redirects
to its job page, which refreshes itself until the PDF is ready.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from backend.ids import parse_uuid
from reports import selectors, web
from reports.filters import compare_wave_of, parse_filter_strings
from reports.jobs import report_job_file, report_job_request, report_jobs_sweep_stale
from reports.models import ReportJob, ReportStatus
from surveys import errors
from surveys.models import Membership

LOGIN_URL = reverse_lazy("login")


def _base_template() -> str:
    # The forms' base template when the public forms are installed; ours otherwise.
    return select_template(["surveys/base.html", "reports/base.html"]).template.name


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"base_template": _base_template(), **context}, status=status)


def _page_language(request: HttpRequest) -> str:
    """``?lang=ja|en`` (remembered in Django's language cookie), else the language LocaleMiddleware chose."""
    asked = request.GET.get("lang")
    language = asked if asked in web.LANGUAGES else (translation.get_language() or "en")[:2]
    language = language if language in web.LANGUAGES else "en"
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def _remember_language(request: HttpRequest, response: HttpResponse, language: str) -> HttpResponse:
    if request.GET.get("lang") in web.LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """`/`: what Kagami is, a log-in button, and for a member the waves they may open."""
    language = _page_language(request)
    waves = []
    if request.user.is_authenticated:
        waves = sorted(selectors.readable_waves(user=request.user),
                       key=lambda w: (w.organization.name, -(w.created_at.timestamp())))
    response = _render(request, "reports/home.html", {"waves": waves, "page_language": language,
                                                       "lang_query": {code: f"?lang={code}" for code in web.LANGUAGES}})
    return _remember_language(request, response, language)


@require_GET
@login_required(login_url=LOGIN_URL)
def wave_mirror(request: HttpRequest, wave_id: int) -> HttpResponse:
    """The web mirror of one wave: the gap engine's view, filters in the query string (docs in reports/web.py)."""
    language = _page_language(request)
    wave = get_object_or_404(selectors.readable_waves(user=request.user), pk=wave_id)
    status = 200
    try:
        options = web.parse_options(wave, request.GET)
        page = web.build_page(wave, options, language=language, request=request)
    except errors.ValidationFailed as exc:
        status = exc.status
        options = web.ViewOptions()
        page = {"problems": [(name, message) for name, messages in exc.field_errors.items() for message in messages]
                or [("", exc.detail)], "query": "", "wave_obj": wave,
                "language_links": {code: f"?lang={code}" for code in web.LANGUAGES}}
    page.update(web.form_context(wave, options, language=language, raw=request.GET))
    response = _render(request, "reports/mirror.html", {**page, "page_language": language}, status=status)
    return _remember_language(request, response, language)


@require_GET
@login_required(login_url=LOGIN_URL)
def report_index(request: HttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    waves = list(selectors.readable_waves(user=request.user).order_by("organization__name", "-created_at"))
    latest: dict[tuple[int, str], object] = {}
    for job in selectors.readable_report_jobs(user=request.user).filter(status=ReportStatus.DONE).order_by(
            "created_at"):
        latest[(job.wave_id, job.language)] = job
    rows = [{"wave": w, "ja": latest.get((w.pk, "ja")), "en": latest.get((w.pk, "en"))}
            for w in waves]
    return _render(request, "reports/index.html", {"rows": rows, "memberships": memberships})


@require_POST
@login_required(login_url=LOGIN_URL)
def report_request(request: HttpRequest, wave_id: int, language: str) -> HttpResponse:
    if language not in ("ja", "en"):
        raise Http404
    wave = get_object_or_404(selectors.readable_waves(user=request.user).select_related("previous_wave"), pk=wave_id)
    previous = wave.previous_wave
    compare = previous if previous is not None and previous.organization_id == wave.organization_id else None
    weighted = False
    filters: dict[str, list[str]] = {"staff": [], "customer": []}
    if "compare_wave" in request.POST or "weighted" in request.POST:
        # The web mirror's "same view as PDF": its comparison wave (or none), weighting and segment filters.
        try:
            compare = compare_wave_of(wave, request.POST.get("compare_wave", ""))
        except errors.ValidationFailed:
            return _render(request, "reports/problem.html", {"problems": [
                ("compare_wave", _("Choose another wave of this organization."))]}, status=400)
        weighted = request.POST.get("weighted") == "1"
        filters = {side: request.POST.getlist(side) for side in filters}  # field:value, as the API spells them
    try:
        job, _created = report_job_request(
            wave=wave, user=request.user, language=language, compare_wave=compare, weighted=weighted,
            staff_filter=parse_filter_strings(filters["staff"], "staff"),
            customer_filter=parse_filter_strings(filters["customer"], "customer"), via="page",
            department=request.POST.get("department") or None)
    except errors.ValidationFailed as exc:
        return _render(request, "reports/problem.html", {"problems": [
            (field, " ".join(messages)) for field, messages in exc.field_errors.items()]}, status=400)
    return redirect("reports:job", pk=job.pk)


@require_GET
@login_required(login_url=LOGIN_URL)
def report_job(request: HttpRequest, pk: str) -> HttpResponse:
    report_jobs_sweep_stale()
    job = _readable_job(request, pk)
    return _render(request, "reports/job.html", {"job": job, "refresh": not job.is_finished,
                                                 "title": _("Report")})


@require_GET
@login_required(login_url=LOGIN_URL)
def report_download(request: HttpRequest, pk: str) -> HttpResponse:
    job = _readable_job(request, pk)
    if job.status != ReportStatus.DONE or not job.file:
        return redirect("reports:job", pk=job.pk)
    return FileResponse(report_job_file(job=job, user=request.user, via="page"), content_type="application/pdf",
                        as_attachment=True, filename=job.filename())


def _readable_job(request: HttpRequest, pk: str) -> ReportJob:
    """A report job of the user's organizations; unknown, malformed or another organization's: the same 404."""
    job_id = parse_uuid(pk)
    job = selectors.readable_report_jobs(user=request.user).filter(pk=job_id).first() if job_id else None
    if job is None:
        raise Http404
    return job
