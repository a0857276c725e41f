"""What every page shares when it calls a service."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .errors import Conflict, DomainError, NotPermitted


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


def error_messages(request, error: DomainError) -> None:
    """A service's refusal as messages, for pages that redirect rather than redraw a form."""
    for field_messages in error.errors.values():
        for message in field_messages:
            messages.error(request, message)


def post_action(request, form, call, done: str) -> bool:
    """Run one service for a small POST form (`call(form.cleaned_data)`); bad input and the
    service's refusals become messages, NotPermitted the 403 page (with refuse_not_permitted).
    True when the service ran."""
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, error if field == "__all__" else f"{field}: {error}")
        return False
    try:
        call(form.cleaned_data)
    except NotPermitted:
        raise
    except DomainError as error:
        error_messages(request, error)
        return False
    messages.success(request, done)
    return True
