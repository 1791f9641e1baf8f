"""The diagnosis's HTML pages: the questionnaire, the result page and its PDF. Thin: services and
selectors decide; these pages choose the language, keep what was given, and draw.

Abuse guards are the public forms' (surveys.public.throttling): posts count towards the flood ceiling,
a body is size-checked before it is parsed, CSRF is checked after that, and an unknown or switched-off
link (or result) is a plain 404 counted against the address's failure budget.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from diagnosis import scoring, selectors, services
from diagnosis.chart import localized_chart
from diagnosis.models import DiagnosisLink
from diagnosis.present import questionnaire, result_payload
from diagnosis.questions import ELEMENTS, ITEMS, LANGUAGES
from surveys import errors
from surveys.public import throttling
from surveys.public.forms import HONEYPOT_FIELD, LANGUAGE_LABELS
from surveys.public.views import unknown_link_page

FIELD_PREFIX = "a_"  # the public forms' answer names, so their progress script counts these too


def choose_language(request: HttpRequest, *asked: str | None, link: DiagnosisLink | None = None) -> str:
    """The first asked language we offer, else the link's organization's, else the browser's, else English."""
    candidates = [*asked]
    if link is not None:
        candidates.append(selectors.organization_language(link.organization))
    candidates.append(translation.get_language_from_request(request))
    for code in candidates:
        if code:
            code = code.split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return "en"


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, language: str,
            status: int = 200) -> HttpResponse:
    translation.activate(language)
    request.LANGUAGE_CODE = language
    context = {"page_language": language, "language_labels": LANGUAGE_LABELS, **context}
    return render(request, f"diagnosis/{template}", context, status=status)


def rate_limited_page(request: HttpRequest, exc: throttling.RateLimited) -> HttpResponse:
    response = _render(request, "problem.html", {"heading": _("Too many requests"),
                                                 "message": _("Please try again in a few minutes.")},
                       language=choose_language(request, request.GET.get("lang")), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def counted_read(request: HttpRequest) -> HttpResponse | None:
    """A result read counts towards the address's flood ceiling, unlike a form view: it may render a PDF and
    read (and audit) the organization's gap. The 429 page when the address is over it, else None."""
    try:
        throttling.check_rate_limit(request, count=True)
    except throttling.RateLimited as exc:
        return rate_limited_page(request, exc)
    return None


def problem_message(code: str) -> str:
    return {
        scoring.MISSING: _("Please choose an answer."),
        scoring.NOT_A_NUMBER: _("Please choose one of the five answers."),
        scoring.OUT_OF_RANGE: _("Please choose one of the five answers."),
    }.get(code, _("Please choose one of the five answers."))


def form_sections(language: str, values: dict[str, str], problems: dict[str, str]) -> list[dict[str, Any]]:
    """The questionnaire as the template draws it: per element its statements, each with choices, value, error."""
    data = questionnaire(language)
    sections = []
    for element in ELEMENTS:
        questions = []
        for item in ITEMS:
            if item.element != element.key:
                continue
            questions.append({
                "key": item.key, "name": FIELD_PREFIX + item.key, "html_id": f"q-{item.key}",
                "text": item.text(language), "value": values.get(item.key, ""),
                "error": problem_message(problems[item.key]) if item.key in problems else "",
                "choices": [{"value": str(c["value"]), "label": c["label"], "html_id": f"q-{item.key}-{c['value']}"}
                            for c in data["scale"]["labels"]],
            })
        sections.append({"key": element.key, "title": element.name(language), "questions": questions})
    return sections


def posted_values(request: HttpRequest) -> dict[str, str]:
    return {item.key: str(request.POST.get(FIELD_PREFIX + item.key, ""))[:10] for item in ITEMS}


class DiagnosisFormView(View):
    """GET shows the questionnaire; POST stores it and goes to the result (or switches language, storing nothing)."""

    def link(self, **kwargs) -> DiagnosisLink | None:
        token = kwargs.get("token")
        return selectors.active_link(token) if token is not None else None

    def get(self, request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            link = self.link(**kwargs)
        except errors.NotFound:
            return unknown_link_page(request)
        language = choose_language(request, request.GET.get("lang"), link=link)
        return self.show(request, link, language, values={}, problems={}, status=200)

    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # As the public forms: CSRF is checked in post(), after the body-size check.
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            throttling.check_rate_limit(request, count=True)
            throttling.check_body_size(request)
        except throttling.RateLimited as exc:
            return rate_limited_page(request, exc)
        except errors.PayloadTooLarge:
            throttling.record_failure(request)
            return _render(request, "problem.html", {"heading": _("Too much data"),
                                                     "message": _("The form sent more data than it can hold.")},
                           language=choose_language(request, request.GET.get("lang")), status=413)
        rejection = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
        if rejection is not None:
            return rejection
        try:
            link = self.link(**kwargs)
        except errors.NotFound:
            return unknown_link_page(request)
        language = choose_language(request, request.POST.get("language"), request.GET.get("lang"), link=link)
        values = posted_values(request)
        switch = request.POST.get("switch_lang")
        if switch:
            language = choose_language(request, switch, language)
            return self.show(request, link, language, values=values, problems={}, status=200)
        if request.POST.get(HONEYPOT_FIELD):
            throttling.record_failure(request)  # only bots fill it: nothing stored
            return HttpResponseRedirect(request.path)
        try:
            result = services.result_submit(answers=values, language=language, link=link)
        except services.AnswersInvalid as exc:
            return self.show(request, link, language, values=values, problems=exc.problems, status=400)
        url = reverse("diagnosis-result", kwargs={"uuid": result.uuid}) + "?" + urlencode({"lang": language})
        return _see_other(url)

    def show(self, request: HttpRequest, link: DiagnosisLink | None, language: str, *, values: dict[str, str],
             problems: dict[str, str], status: int) -> HttpResponse:
        translation.activate(language)
        sections = form_sections(language, values, problems)
        questions = [q for s in sections for q in s["questions"]]
        company = link.organization.company_name(language) if link is not None else ""
        return _render(request, "form.html", {
            "sections": sections, "language": language, "company": company,
            "other_languages": [(code, LANGUAGE_LABELS[code]) for code in LANGUAGES if code != language],
            "error_summary": [(q["html_id"], q["text"], q["error"]) for q in questions if q["error"]],
            "answered": sum(1 for q in questions if q["value"] in {c["value"] for c in q["choices"]}),
            "total": len(questions), "honeypot_field": HONEYPOT_FIELD,
            "scale": questionnaire(language)["scale"]["labels"],
        }, language=language, status=status)


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST: the result is fetched with GET
    return response


def result_page(request: HttpRequest, uuid: str) -> HttpResponse:
    if (refused := counted_read(request)) is not None:
        return refused
    try:
        result = selectors.result_by_uuid(uuid)
    except errors.NotFound:
        return unknown_link_page(request)
    language = choose_language(request, request.GET.get("lang"), result.language)
    translation.activate(language)
    payload = result_payload(result, language)
    return _render(request, "result.html", {
        "result": payload, "chart": localized_chart(payload),
        "other_languages": [(code, LANGUAGE_LABELS[code]) for code in LANGUAGES if code != language],
    }, language=language)


def result_pdf(request: HttpRequest, uuid: str) -> HttpResponse:
    from diagnosis import pdf

    if (refused := counted_read(request)) is not None:
        return refused
    try:
        result = selectors.result_by_uuid(uuid)
    except errors.NotFound:
        return unknown_link_page(request)
    language = choose_language(request, request.GET.get("lang"), result.language)
    rendered = pdf.render_result_pdf(result, language)
    response = HttpResponse(rendered.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="kagami-diagnosis-{result.uuid}.pdf"'
    return response
