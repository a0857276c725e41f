"""What every page shares when it calls a service."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .errors import Conflict, DomainError, NotPermitted, add_to_form


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


class refusals_on:
    """Show a service's refusal on the form (or, with `request=`, as messages; with neither,
    only keep it in `.error`) and carry on to draw the page again; `.ok` tells whether the
    service ran. NotPermitted is not caught: it reaches refuse_not_permitted, the 403 page.

        with refusals_on(form) as outcome:
            agent = services.agent_update(actor=request.user, agent=agent, data=...)
        if outcome.ok:
            return redirect(agent)
    """

    def __init__(self, form=None, *, request=None) -> None:
        self.form, self.request, self.ok = form, request, True
        self.error: DomainError | None = None

    def __enter__(self) -> "refusals_on":
        return self

    def __exit__(self, exc_type, error, traceback) -> bool:
        if not isinstance(error, DomainError) or isinstance(error, NotPermitted):
            return False
        self.ok, self.error = False, error
        if self.form is not None:
            add_to_form(self.form, error)
        elif self.request is not None:
            error_messages(self.request, error)
        return True


def error_messages(request, error: DomainError) -> None:
    """A service's refusal as messages, for pages that redirect rather than redraw a form."""
    for field_messages in error.errors.values():
        for message in field_messages:
            messages.error(request, message)


@dataclass
class Outcome:
    """What post_action did: `ok` when the service ran, and what it returned. True when ok."""

    ok: bool
    result: Any = None

    def __bool__(self) -> bool:
        return self.ok


def post_action(request, form, call, done: str | Callable[[Any], str]) -> Outcome:
    """Run one service for a small POST form (`call(form.cleaned_data)`); bad input and the
    service's refusals become messages, NotPermitted the 403 page (with refuse_not_permitted).
    `done` is the success message, or makes it from what the service returned.

        outcome = post_action(request, ReasonForm(request.POST), lambda d: services.x(...),
                              "Done.")
        return redirect(outcome.result if outcome else fallback)
    """
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, error if field == "__all__" else f"{field}: {error}")
        return Outcome(False)
    result = None
    with refusals_on(request=request) as outcome:
        result = call(form.cleaned_data)
    if outcome.ok:
        messages.success(request, done(result) if callable(done) else done)
    return Outcome(outcome.ok, result)
