"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured from the issuer alone:
its endpoints come from the issuer's discovery document, fetched on the first sign-in."""

import functools

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.urls import path
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from ..core.errors import DomainError
from .identity import sso_user_for
from .rules import idp_used_second_factor
from .two_factor import IDP_SECOND_FACTOR

DISCOVERED_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


@functools.lru_cache(maxsize=4)
def discovery(issuer: str) -> dict:
    """The issuer's OpenID Provider metadata (cached for the life of the process)."""
    url = f"{issuer}/.well-known/openid-configuration"
    response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    metadata = response.json()
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise ImproperlyConfigured(f"{url} names another issuer: {metadata.get('issuer')!r}.")
    return metadata


def oidc_setting(name: str, *default):
    """A mozilla-django-oidc setting; endpoints not set explicitly come from discovery."""
    if name in DISCOVERED_ENDPOINTS and not hasattr(settings, name):
        return discovery(settings.OIDC_ISSUER)[DISCOVERED_ENDPOINTS[name]]
    return import_from_settings(name, *default)


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in the person the identity provider vouches for, creating them on first sign-in
    and giving them the roles their groups map to (accounts.identity.sso_user_for)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for every sign-in, password ones too: the provider is
        # asked for its endpoints only when a sign-in actually comes back from it.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or not request.GET.get("code") or not settings.SSO_ENABLED:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def get_or_create_user(self, access_token, id_token, payload):
        claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}
        try:
            user = sso_user_for(claims=claims, username_claim=settings.OIDC_USERNAME_CLAIM,
                                groups_claim=settings.OIDC_GROUPS_CLAIM)
        except DomainError:
            return None
        # Kept through login(), which keeps the session's data under a new key.
        self.request.session[IDP_SECOND_FACTOR] = idp_used_second_factor(
            payload.get("amr"), settings.OIDC_TRUSTED_AMR)
        return user


class SsoEnabledMixin(View):
    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        if not settings.SSO_ENABLED:
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SsoStartView(SsoEnabledMixin, OIDCAuthenticationRequestView):
    def __init__(self, *args, **kwargs):
        # Resolved per request, not at import, so that settings (and tests) may change them.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        return super().get(request)


class SsoCallbackView(SsoEnabledMixin, OIDCAuthenticationCallbackView):
    pass


urlpatterns = [
    path("login/", SsoStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
]
