"""Limits on the account pages (issue 13): a per-address ceiling on failed logins, on top of
django-axes' per-(username, address) lock, and a throttled self-service password reset.

Client addresses follow the public forms' rule (KAGAMI_TRUSTED_PROXY_COUNT), through
surveys.public.throttling.client_ip; counters live in Django's cache like the forms' limits.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.contrib.auth import urls as auth_urls
from django.contrib.auth import views as auth_views
from django.db.models import Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import translation

from surveys.public.throttling import bump_counter, client_ip

RESET_PER_ADDRESS = 3  # reset mails per client address per hour
RESET_ADDRESS_WINDOW = 3600
RESET_PER_ACCOUNT = 1  # reset mails per account (e-mail address) per 15 minutes
RESET_ACCOUNT_WINDOW = 15 * 60


class KagamiAxesHandler(AxesDatabaseHandler):
    """axes' database handler with two limits: AXES_FAILURE_LIMIT per (username, address), the first
    entry of AXES_LOCKOUT_PARAMETERS, and KAGAMI_LOGIN_IP_FAILURE_LIMIT per address (the second).

    axes compares one failure count with one limit; a client whose address reached its ceiling is
    reported as having reached the per-username limit, so every axes path (the backend's check, the
    lock after a failure) refuses it.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        sums = [attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
                for attempts in self.get_user_attempts(request, credentials)]
        pair = sums[0] if sums else 0
        per_address = sums[1] if len(sums) > 1 else 0
        if per_address >= settings.KAGAMI_LOGIN_IP_FAILURE_LIMIT:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        # A successful login clears that user's failures from that address only: logging into one's
        # own account must not wipe the address's ceiling (an insider spraying other usernames).
        attempts = self.filter_user_attempts(request, credentials)[:1]
        return sum(qs.delete()[0] for qs in attempts)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, sending at most RESET_PER_ADDRESS mails per address per hour and
    RESET_PER_ACCOUNT per e-mail address per 15 minutes. Every valid post answers the same redirect
    to the "done" page, whether the account exists, and whether a mail was sent or not."""

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        account = hashlib.sha256(email.encode()).hexdigest()
        # Both counters move on every post, known account or not, so timing and limits tell nothing.
        by_address = bump_counter("pwreset-ip", client_ip(self.request), RESET_ADDRESS_WINDOW)
        by_account = bump_counter("pwreset-acct", account, RESET_ACCOUNT_WINDOW)
        if by_address > RESET_PER_ADDRESS or by_account > RESET_PER_ACCOUNT:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class LanguageLoginView(auth_views.LoginView):
    """Django's login page, in the language of ``?lang=ja|en`` (remembered in the language cookie, as the
    executives' pages do), else the one LocaleMiddleware chose."""

    LANGUAGES = ("ja", "en")

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        asked = request.GET.get("lang")
        if asked in self.LANGUAGES:
            translation.activate(asked)
            request.LANGUAGE_CODE = asked
        response = super().dispatch(request, *args, **kwargs)
        if asked in self.LANGUAGES:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, asked, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        nxt = self.get_redirect_url()
        context["page_language"] = translation.get_language()
        context["language_links"] = {code: "?" + urlencode({"lang": code, **({"next": nxt} if nxt else {})})
                                     for code in self.LANGUAGES}
        return context


urlpatterns = [
    path("login/", LanguageLoginView.as_view(), name="login"),
    path("password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    # Django's other account pages; its own login and unthrottled password_reset are replaced (one route per URL).
    *(pattern for pattern in auth_urls.urlpatterns if pattern.name not in ("login", "password_reset")),
]
