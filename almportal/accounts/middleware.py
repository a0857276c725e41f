"""Session hygiene and the two-factor policy, applied to every page and session API call."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from . import rules
from .two_factor import ENROLLED, IDP_SECOND_FACTOR, has_second_factor

SSO_BACKEND = "almportal.accounts.sso.OidcBackend"
STARTED, LAST_SEEN = "session_started_at", "session_last_seen_at"  # set at sign-in (signals)
# The last-seen time is written at most this often, so that a busy page does not save the
# session on every request; the idle timeout is exact to within it.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def session_begin(sender, request, user, **kwargs) -> None:
    """At sign-in: when the session started, and whether a second factor will be asked for
    (read once here so that pages do not query for it on every request)."""
    if request is None or not hasattr(request, "session"):
        return
    now = timezone.now().isoformat()
    request.session[STARTED] = request.session[LAST_SEEN] = now
    request.session[ENROLLED] = has_second_factor(user)
    if getattr(user, "backend", "") != SSO_BACKEND:
        request.session.pop(IDP_SECOND_FACTOR, None)  # only the sign-in that reported it counts


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _send_to(request, url: str) -> HttpResponse:
    """A redirect; for an htmx request, one the whole page follows, not the fragment."""
    if getattr(request, "htmx", False):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


class SessionLifetimeMiddleware:
    """Ends a signed-in session after SESSION_IDLE_MINUTES without a request, or
    SESSION_MAX_AGE_MINUTES after sign-in, whichever comes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            expired = self._check(request)
            if expired:
                logout(request)
                if _is_api(request):
                    return JsonResponse({"detail": expired}, status=401)
                messages.info(request, expired)
                return _send_to(request, redirect_to_login(request.get_full_path()).url)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> str | None:
        session, now = request.session, timezone.now()
        started = _read(session.get(STARTED)) or now
        last_seen = _read(session.get(LAST_SEEN)) or now
        if STARTED not in session:
            session[STARTED] = now.isoformat()
        expired = rules.session_expiry(
            started=started, last_seen=last_seen, now=now,
            idle=timedelta(minutes=settings.SESSION_IDLE_MINUTES),
            lifetime=timedelta(minutes=settings.SESSION_MAX_AGE_MINUTES))
        if not expired and (LAST_SEEN not in session or now - last_seen >= LAST_SEEN_RESOLUTION):
            session[LAST_SEEN] = now.isoformat()
        return expired


def _read(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# Pages a person must reach before their second factor is checked.
OPEN_PATHS = ("/account/two-factor/", "/logout/", "/static/", "/login/", "/sso/")


class SecondFactorPolicyMiddleware:
    """A person whose roles the policy names (TWO_FACTOR_REQUIRED_ROLES), or who enrolled a
    second factor, reaches nothing but the two-factor pages until this session is verified
    with a code: first they enrol, then they enter a code at each sign-in. A single sign-on
    where the identity provider reports a trusted second factor (OIDC_TRUSTED_AMR) counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (user.is_authenticated and not user.is_verified()
                and not request.session.get(IDP_SECOND_FACTOR)
                and not request.path.startswith(OPEN_PATHS)):
            enrolled = bool(request.session.get(ENROLLED))
            required = settings.TWO_FACTOR_REQUIRED_ROLES and rules.second_factor_required(
                user, settings.TWO_FACTOR_REQUIRED_ROLES)
            if enrolled or required:
                return self._refuse(request, enrolled)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, enrolled: bool):
        if _is_api(request):
            return JsonResponse({"detail": "Verify your second factor first "
                                           "(/account/two-factor/)."}, status=403)
        name = "accounts:two-factor-verify" if enrolled else "accounts:two-factor-setup"
        return _send_to(request, f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
