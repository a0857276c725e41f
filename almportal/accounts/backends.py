"""Who may sign in with a password, and the lockout in front of it."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from .access import permissions_of


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout for sign-ins from the web. A check without a request (the shell, a
    management command) has no address to count against, so it is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PasswordBackend(ModelBackend):
    """Django's password check, unless password sign-in is switched off (single sign-on only).
    Service accounts never sign in with a password: they act through API tokens.
    Sessions and permissions still resolve through this backend either way."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.PASSWORD_LOGIN_ENABLED:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and user.is_service_account:
            return None
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The model permissions, from the cache between requests (accounts.access)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(permissions_of(user_obj))
        return user_obj._perm_cache


def client_address(request) -> str:
    """The address failed sign-ins are counted against. Behind TRUSTED_PROXY_COUNT proxies it
    is the entry those proxies appended to X-Forwarded-For; entries further left are the
    client's own claims and could be forged to dodge the per-address limit."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
