"""Response headers every answer carries (the Content-Security-Policy is django-csp's)."""

from django.utils.cache import patch_cache_control

from .http_errors import is_api

# No page of the portal uses these browser features; deny them to anything it embeds or loads.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "payment", "usb"))


class ResponseHeadersMiddleware:
    """Permissions-Policy on every answer, and `Cache-Control: no-store` on every API answer and
    every page a signed-in user sees: no shared or back-button cache keeps governance records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if is_api(request) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True)
        return response
