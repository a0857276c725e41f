"""Signing in and out of pages: the login page (password and single sign-on), password change
and reset by e-mail, two-factor enrolment and verification."""

from base64 import b32encode
from typing import cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..core.lifecycle import record
from ..core.views import refusals_on
from .forms import CodeForm, LoginForm, ResetForm
from .models import User
from .two_factor import (
    has_second_factor,
    pending_authenticator,
    recovery_codes_left,
    recovery_codes_renew,
    second_factor_enrol,
    second_factor_verify,
)


class SignInView(auth.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "sso_enabled": settings.SSO_ENABLED,
                "password_login": settings.PASSWORD_LOGIN_ENABLED,
                "sso_failed": self.request.GET.get("sso") == "failed"}


class PasswordChangeView(auth.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("portal:home")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_usable_password():
            raise Http404("This account signs in through single sign-on and has no password.")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        user = cast(User, self.request.user)  # the view lets only a signed-in user through
        record(user, actor=user, reason="Password changed")
        messages.success(self.request, "Your password was changed.")
        return response


class PasswordLoginOnly(View):
    def dispatch(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN_ENABLED:
            raise Http404("Password sign-in is switched off: sign in with single sign-on.")
        return super().dispatch(request, *args, **kwargs)


class PasswordResetView(PasswordLoginOnly, auth.PasswordResetView):
    form_class = ResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(PasswordLoginOnly, auth.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(form.user, actor=form.user, reason="Password reset by e-mail link")
        return response


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse("portal:home")


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=5, title="Scan with your authenticator app")


@never_cache
@login_required
def two_factor_setup(request):
    """Enrol an authenticator app (a QR code and its secret), or, once enrolled, see how many
    recovery codes are left."""
    if has_second_factor(request.user):
        return render(request, "accounts/two_factor.html", {
            "enrolled": True, "codes_left": recovery_codes_left(request.user)})
    device = pending_authenticator(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            codes = second_factor_enrol(request=request, user=request.user,
                                        code=form.cleaned_data["code"])
        if outcome.ok:
            return render(request, "accounts/recovery_codes.html",
                          {"codes": codes, "next": _next(request)})
    return render(request, "accounts/two_factor.html", {
        "enrolled": False, "form": form, "qr": _qr_svg(device.config_url),
        "secret": _base32(device), "next": _next(request),
        "required": bool(request.GET.get("next") or request.POST.get("next"))})


def _base32(device) -> str:
    return b32encode(device.bin_key).decode()


@never_cache
@login_required
def two_factor_verify(request):
    if not has_second_factor(request.user):
        return redirect("accounts:two-factor-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            second_factor_verify(request=request, user=request.user,
                                 code=form.cleaned_data["code"])
        if outcome.ok:
            return redirect(_next(request))
    return render(request, "accounts/two_factor_verify.html",
                  {"form": form, "next": _next(request)})


@never_cache
@login_required
@require_POST
def recovery_codes_new(request):
    with refusals_on(request=request) as outcome:
        codes = recovery_codes_renew(user=request.user)
    if not outcome.ok:
        return redirect("accounts:two-factor-setup")
    return render(request, "accounts/recovery_codes.html",
                  {"codes": codes, "next": reverse_lazy("accounts:two-factor-setup")})
