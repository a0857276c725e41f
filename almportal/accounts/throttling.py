"""API rate limits: one budget per person and one per token, answered with 429 and
Retry-After once spent (rates in settings, "API throttling")."""

from rest_framework import throttling

from .models import ApiToken


class UserRateThrottle(throttling.UserRateThrottle):
    """Every request of one user, whichever token or session it comes through."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # anonymous requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Every request made with one API token, so a runaway integration spends its own budget
    before its owner's."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class GatewayRateThrottle(TokenRateThrottle):
    """What gateways poll for every agent they front (runtime status, enforced policy): a
    budget of its own per token, larger than the API's, so polling hard neither spends the
    token's budget for everything else nor is refused at the API's rate."""

    scope = "gateway"
