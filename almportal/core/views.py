"""What every page shares when it calls a service."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .errors import Conflict, NotPermitted


def conflict_page(request, error: Conflict):
    return render(request, "error.html", {"title": "Not possible now", "message": error.message},
                  status=409)


def refuse_not_permitted(view):
    """A service's NotPermitted becomes the 403 page and a Conflict that escapes the view (the
    object's state forbids the page itself, e.g. a retired agent) the 409 page, each with the
    service's own message."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except Conflict as error:
            return conflict_page(request, error)

    return wrapper
