"""The respondent's HTML forms: invitation links (/r/<token>/) and anonymous links (/s/<slug>/<side>/).

Server-rendered, usable without JavaScript. Every submission goes through
``services.response_submit``; its domain errors become friendly pages here
(404 unknown link, 409 already answered, 410 not collecting, 413, 429) and its
field errors re-show the form with every other answer kept. The staff anonymous
link also needs the single-use ticket its form carries and is capped per client
address (surveys/public/tickets.py); a refused ticket re-shows the form (403)
with the answers kept and a fresh ticket.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from surveys import errors, internal, invitation_links, respondents, services
from surveys.models import AnonymousLink, Channel, Language, WaveStatus
from surveys.public import internal_form, links, throttling, tickets
from surveys.public.forms import (
    HONEYPOT_FIELD,
    LANGUAGE_LABELS,
    SurveyForm,
    pick_language,
    posted_answers,
    posted_segments,
)
from surveys.public.links import Target


def _activate(request: HttpRequest, language: str) -> None:
    # The form's language, not the browser's, decides the page language (and Content-Language).
    translation.activate(language)
    request.LANGUAGE_CODE = language


def _page(request: HttpRequest, template: str, status: int, language: str | None = None,
          **context) -> HttpResponse:
    if language:
        _activate(request, language)
    context.setdefault("page_language", translation.get_language() or "en")
    wave = context.get("wave")
    if wave is not None and "company" not in context:
        context["company"] = wave.organization.company_name(context["page_language"])
    return render(request, f"surveys/public/{template}", context, status=status)


def pick_language_code(asked: str | None, fallback: str | None) -> str:
    """``asked`` if it is a language of the forms, else ``fallback``'s, else English (no wave at hand)."""
    for code in (asked, fallback):
        if code in Language.values:
            return code
    return Language.EN


def not_found_page(request: HttpRequest) -> HttpResponse:
    """A plain 404 that says nothing about whether a token or wave exists."""
    return _page(request, "not_found.html", 404)


def unknown_link_page(request: HttpRequest) -> HttpResponse:
    """The answer to an unknown link: counted; a plain 404, or 429 once the address is over its failure budget."""
    try:
        throttling.refuse_unknown_link(request)
    except throttling.RateLimited as exc:
        response = _page(request, "rate_limited.html", 429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return not_found_page(request)


class PublicFormView(View):
    """GET shows the form; POST submits it (or switches language, saving nothing)."""

    thanks_url_name = ""

    # ---------------------------------------------------------------- hooks of the two link kinds

    def resolve(self, request: HttpRequest, *, recent: bool = False, **kwargs) -> Target:
        """The link's target; ``recent`` allows this process's copy of a few seconds ago (posts)."""
        raise NotImplementedError

    def forget(self, **kwargs) -> None:
        """Drop this process's copy of the link's target (after the database refused a post)."""

    def thanks_url(self, target: Target, language: str, **kwargs) -> str:
        raise NotImplementedError

    def initial_language(self, request: HttpRequest, target: Target) -> str:
        preferred = target.invitation.language if target.invitation else None
        return pick_language(target.wave, request.GET.get("lang"), preferred)

    # ---------------------------------------------------------------- flow

    def check_open(self, request: HttpRequest, target: Target) -> None:
        if target.anonymous and internal.is_internal(target.wave):
            raise errors.NotFound()  # internal waves are answered by invitation only (surveys/internal.py)
        if not target.wave.is_collecting:
            raise errors.WaveNotCollecting()
        if target.invitation is not None and target.invitation.is_used:
            raise errors.AlreadyAnswered()
        if target.anonymous and throttling.has_answered(request, target.wave, target.side):
            raise errors.AlreadyAnswered()
        if target.guarded:
            tickets.check_address(request, target.wave)

    def get(self, request: HttpRequest, **kwargs) -> HttpResponse:
        target: Target | None = None
        language: str | None = None
        try:
            throttling.check_rate_limit(request, count=False)
            target = self.resolve(request, **kwargs)
            language = self.initial_language(request, target)
            self.check_open(request, target)
        except errors.KagamiError as exc:
            return self.error_page(request, exc, target, language)
        form = self.make_form(target, language)
        return self.render_form(request, target, form, status=200)

    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # CSRF is checked in post(), *after* the body-size check: the middleware
        # would otherwise parse an oversized body before we could answer 413.
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            throttling.check_rate_limit(request, count=True)
            throttling.check_body_size(request)
        except errors.KagamiError as exc:
            return self.error_page(request, exc, None, None)
        rejection = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
        if rejection is not None:
            return rejection
        return self.submit(request, recent=True, **kwargs)

    def submit(self, request: HttpRequest, *, recent: bool, **kwargs) -> HttpResponse:
        """The checked post: store it, or re-show the form, or explain why not."""
        target: Target | None = None
        language: str | None = None
        try:
            target = self.resolve(request, recent=recent, **kwargs)
            language = pick_language(target.wave, request.POST.get("language"), self.initial_language(request, target))
            self.check_open(request, target)

            switch = request.POST.get("switch_lang")
            if switch:
                # Re-render in the other language with everything given so far; nothing is saved.
                language = pick_language(target.wave, switch, language)
                form = self.make_form(target, language, data=request.POST)
                return self.render_form(request, target, form, status=200)

            if request.POST.get(HONEYPOT_FIELD):
                # Only bots see this field. Pretend success, store nothing, and count it.
                throttling.record_failure(request)
                return HttpResponseRedirect(self.thanks_url(target, language, **kwargs))

            if internal.is_internal(target.wave):
                return self.submit_internal(request, target, language, **kwargs)
            # The whole form (every question's wording and choices) is built only to show errors.
            try:
                with tickets.guarded_submission(request, target.wave, target.side, anonymous=target.anonymous,
                                                ticket=request.POST.get(tickets.TICKET_FIELD)):
                    services.response_submit(
                        wave=target.wave,
                        side=target.side,
                        answers=posted_answers(target.wave, target.side, request.POST),
                        language=language,
                        channel=Channel.ANONYMOUS if target.anonymous else Channel.INVITATION,
                        comment=str(request.POST.get("comment", "")),
                        segments=(posted_segments(target.wave, target.side, request.POST)
                                  if target.anonymous else None),
                        invitation=target.invitation,
                        anonymous_link_id=target.link_id,
                    )
            except tickets.TicketRefused as exc:
                # Nothing stored. The form again, answers kept, with a fresh ticket to send them with.
                form = self.make_form(target, language, data=request.POST)
                form.ticket_problem = exc.code
                form.non_field_errors.append(tickets.form_message(exc.code, language))
                return self.render_form(request, target, form, status=403)
            except errors.ValidationFailed as exc:
                # Validation errors are not counted as suspicious: people make them.
                form = self.make_form(target, language, data=request.POST)
                form.apply_errors(exc.field_errors, exc.detail)
                return self.render_form(request, target, form, status=400)
            except errors.WaveNotCollecting:
                if not recent:
                    raise
                # The database refused what this process's copy of the link allowed: the wave closed,
                # the link was switched off or replaced since. Once more from a fresh read, which
                # either stores the answers or tells the respondent why not.
                self.forget(**kwargs)
                return self.submit(request, recent=False, **kwargs)
        except errors.KagamiError as exc:
            return self.error_page(request, exc, target, language)

        response = HttpResponseRedirect(self.thanks_url(target, language, **kwargs))
        if target.anonymous:
            throttling.mark_answered(response, target.wave, target.side, secure=request.is_secure())
        return response

    def submit_internal(self, request: HttpRequest, target: Target, language: str, **kwargs) -> HttpResponse:
        """An internal wave's post: one row per department rated (services.internal_submit), or the form again."""
        try:
            services.internal_submit(
                wave=target.wave, side=target.side, language=language, invitation=target.invitation,
                ratings=internal_form.posted_ratings(target.wave, target.side, request.POST, target.invitation))
        except errors.ValidationFailed as exc:
            form = self.make_form(target, language, data=request.POST)
            form.apply_errors(exc.field_errors)
            return self.render_form(request, target, form, status=400)
        return HttpResponseRedirect(self.thanks_url(target, language, **kwargs))

    # ---------------------------------------------------------------- rendering

    def make_form(self, target: Target, language: str, data=None) -> SurveyForm:
        if internal.is_internal(target.wave):
            return internal_form.InternalSurveyForm(wave=target.wave, side=target.side, language=language,
                                                    data=data, invitation=target.invitation)
        return SurveyForm(wave=target.wave, side=target.side, language=language, data=data,
                          ask_segments=target.anonymous, invitation=target.invitation)

    def render_form(self, request: HttpRequest, target: Target, form: SurveyForm, *, status: int) -> HttpResponse:
        lang = form.language
        ticket = None
        if target.guarded:
            # A re-shown form keeps a ticket that is still good (a failed post gives it back); else a new one.
            posted = request.POST.get(tickets.TICKET_FIELD) if request.method == "POST" else None
            usable = posted is not None and tickets.is_usable(posted, target.wave, target.side)
            ticket = posted if usable else tickets.issue(target.wave, target.side)
        response = _page(
            request, "internal_form.html" if internal.is_internal(target.wave) else "form.html", status,
            language=lang,
            form=form, target=target, wave=target.wave, side=target.side,
            company=target.wave.organization.company_name(lang),
            title=respondents.respondent_title(target.wave, target.side, lang),
            intro=respondents.respondent_intro(target.wave, target.side, lang),
            honeypot_field=HONEYPOT_FIELD, comment_max_length=services.MAX_COMMENT_LENGTH,
            language_labels=LANGUAGE_LABELS, ticket=ticket,
        )
        if ticket is not None:
            add_never_cache_headers(response)  # a ticket is for one person: never from a shared cache
        return response

    def error_page(self, request: HttpRequest, exc: Exception, target: Target | None,
                   language: str | None) -> HttpResponse:
        if target is not None and language is None:
            language = pick_language(target.wave, request.GET.get("lang"))
        if isinstance(exc, errors.NotFound):
            return unknown_link_page(request)
        if isinstance(exc, errors.LinkReplaced):
            # A link revoked by an admin's reissue: recognised, dead, in the invitee's language unless asked.
            language = pick_language_code(request.GET.get("lang") or request.POST.get("language"),
                                          getattr(exc, "language", None))
            _activate(request, language)
            heading, message = invitation_links.replaced_message(language)
            return _page(request, "link_replaced.html", 410, replaced_heading=heading, replaced_message=message)
        if isinstance(exc, tickets.AddressLimitReached):
            if language:
                _activate(request, language)
            heading, message = tickets.limit_message(translation.get_language())
            response = _page(request, "rate_limited.html", 429, limit_heading=heading, limit_message=message,
                             wave=target.wave if target else None)
            response["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, throttling.RateLimited):
            response = _page(request, "rate_limited.html", 429, language=language)
            response["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, errors.PayloadTooLarge):
            throttling.record_failure(request)
            return _page(request, "too_large.html", 413, language=language)
        if isinstance(exc, errors.AlreadyAnswered):
            return _page(request, "already_answered.html", 409, language=language,
                         wave=target.wave if target else None)
        if isinstance(exc, errors.WaveNotCollecting):
            not_yet = target is not None and target.wave.status == WaveStatus.DRAFT
            return _page(request, "not_collecting.html", 410, language=language, not_yet=not_yet,
                         wave=target.wave if target else None)
        # Any other domain error: a plain page with its status, never a 500.
        status = getattr(exc, "status", 400)
        return _page(request, "not_found.html" if status == 404 else "problem.html", status, language=language)


class InvitationFormView(PublicFormView):
    def resolve(self, request: HttpRequest, *, recent: bool = False, **kwargs) -> Target:
        invitation = services.invitation_by_token(token=kwargs["token"])
        return Target(wave=invitation.wave, side=invitation.side, invitation=invitation)

    def thanks_url(self, target: Target, language: str, **kwargs) -> str:
        return reverse("public-invitation-thanks", kwargs={"token": kwargs["token"]}) + "?" + urlencode(
            {"lang": language})


class AnonymousFormView(PublicFormView):
    def resolve(self, request: HttpRequest, *, recent: bool = False, **kwargs) -> Target:
        return links.resolve_anonymous(kwargs["slug"], kwargs["side"], recent=recent)

    def forget(self, **kwargs) -> None:
        links.forget_recent_link(kwargs["slug"], kwargs["side"])

    def thanks_url(self, target: Target, language: str, **kwargs) -> str:
        return reverse("public-anonymous-thanks", kwargs={"slug": kwargs["slug"], "side": kwargs["side"]}) + (
            "?" + urlencode({"lang": language}))


def invitation_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_by_token(token=token)
    except errors.NotFound:
        return unknown_link_page(request)
    language = pick_language(invitation.wave, request.GET.get("lang"), invitation.language)
    return _page(request, "thanks.html", 200, language=language, wave=invitation.wave, side=invitation.side)


def anonymous_thanks(request: HttpRequest, slug: str, side: str) -> HttpResponse:
    try:
        target = links.resolve_anonymous(slug, side)
    except errors.NotFound:
        return unknown_link_page(request)
    except errors.WaveNotCollecting:
        target = Target(wave=AnonymousLink.objects.get(wave__slug=slug, side=side).wave, side=side)
    language = pick_language(target.wave, request.GET.get("lang"))
    return _page(request, "thanks.html", 200, language=language, wave=target.wave, side=side)
