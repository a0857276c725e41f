"""Error answers given outside a view's own handling (an unmatched URL, an uncaught exception):
JSON under /api/, the portal's page elsewhere, and 503 with Retry-After when the database cannot
be reached, whichever the path."""

import sys
from collections.abc import Callable
from functools import wraps

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The service cannot reach its database just now. Nothing was changed; retry shortly."
API_MESSAGES = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    500: "A server error occurred. It has been logged; nothing was changed.",
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def database_unreachable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def unavailable(request: HttpRequest) -> HttpResponse:
    """Drawn without the database: no template context, no session, no user."""
    response: HttpResponse
    if is_api(request):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Unavailable · ALM Portal</title>"
            f"<h1>Briefly unavailable</h1><p>{UNAVAILABLE}</p>", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def api_aware(page_handler: Callable, status: int) -> Callable:
    """Django's error handler for `status`: JSON under /api/, `page_handler` elsewhere."""

    if status == 500:
        @wraps(page_handler)
        def server_error(request):
            # Django calls this handler while it handles the exception, so exc_info names it.
            if database_unreachable(sys.exc_info()[1]):
                return unavailable(request)
            if is_api(request):
                return JsonResponse({"detail": API_MESSAGES[500]}, status=500)
            return page_handler(request)

        return server_error

    @wraps(page_handler)
    def client_error(request, exception=None):
        if is_api(request):
            return JsonResponse({"detail": API_MESSAGES[status]}, status=status)
        return page_handler(request, exception)

    return client_error
