from django.conf import settings
from rest_framework import authentication, exceptions, permissions

from .models import TokenScope
from .rules import second_factor_required
from .services import token_authenticate
from .two_factor import has_second_factor


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer alm_…` (also accepts the `Token` keyword)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        token = token_authenticate(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        policy = settings.TWO_FACTOR_REQUIRED_ROLES
        if policy and second_factor_required(token.user, policy) and not has_second_factor(
                token.user):
            raise exceptions.AuthenticationFailed(
                "Your role requires two-factor authentication: enrol it in the portal first.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class TokenScopePermission(permissions.BasePermission):
    """A token acts only within its scopes. A view may name the scope it needs
    (`required_scope`); otherwise reads need `read` and writes need `write`."""

    message = "This token's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None or not hasattr(token, "allows"):
            return True  # session: the user's own permissions decide
        scope = getattr(view, "required_scope", None) or (
            TokenScope.READ if request.method in permissions.SAFE_METHODS else TokenScope.WRITE
        )
        return token.allows(scope)
