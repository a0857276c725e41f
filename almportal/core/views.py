"""What every page shares when it calls a service."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from .errors import NotPermitted


def refuse_not_permitted(view):
    """A service's NotPermitted becomes the 403 page, with the service's own message."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error

    return wrapper
