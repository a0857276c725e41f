from django.conf import settings
from rest_framework import authentication, exceptions, permissions

from .models import ApiToken, TokenScope
from .rules import second_factor_required
from .services import token_authenticate
from .two_factor import has_second_factor

SCOPE_REFUSED = "This token's scopes do not allow this request."


def scope_required(request, view) -> str:
    """The scope a token needs for this request. A view (or one of its actions) may name it as
    `required_scope`; otherwise reads need `read` and writes need `write`."""
    return getattr(view, "required_scope", None) or (
        TokenScope.READ if request.method in permissions.SAFE_METHODS else TokenScope.WRITE
    )


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer alm_…` (also accepts the `Token` keyword).

    The token's scopes are checked here, where the token is accepted, rather than in a
    permission class: a view that sets its own `permission_classes` cannot drop the check, and
    a view that drops this class accepts no token at all."""

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
        self.check_scope(request, token)
        return token.user, token

    @staticmethod
    def check_scope(request, token: ApiToken) -> None:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if not token.allows(scope_required(request, view)):
            raise exceptions.PermissionDenied(SCOPE_REFUSED)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
