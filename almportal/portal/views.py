from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..accounts.roles import Role
from ..inventory.selectors import agents_visible_to
from . import selectors


def _error(request, status: int, title: str, message: str):
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else (
        "You do not have permission to do this.")
    return _error(request, 403, "Not allowed", message)


def page_not_found(request, exception=None):
    return _error(request, 404, "Not found", "There is nothing here, or you may not see it.")


def server_error(request):
    return _error(request, 500, "Something went wrong",
                  "The error has been logged. Nothing was changed by the failed request.")


@login_required
def home(request):
    """One page per role: what waits for this user. A person with several roles sees each."""
    user, context = request.user, {}
    if user.has_role(Role.BUSINESS_OWNER):
        mine = selectors.agents_in_my_care(user)
        context["owner"] = {"agents": mine, "waiting": selectors.waiting_for_owner(user),
                            "counts": selectors.stage_counts(mine)}
    if user.has_role(Role.COMPLIANCE):
        context["compliance"] = {"intakes": selectors.intakes_to_triage(user),
                                 "counts": selectors.stage_counts(agents_visible_to(user))}
    if user.has_role(Role.SECURITY):
        context["security"] = {"expiring": selectors.credentials_expiring(user),
                               "standing": selectors.standing_grants(user),
                               "live": selectors.live_grants(user).count()}
    if user.has_role(Role.AUDITOR):
        context["auditor"] = {"changes": selectors.recent_changes(user),
                              "counts": selectors.stage_counts(agents_visible_to(user))}
    if user.has_role(Role.ADMIN):
        context["admin"] = {"totals": selectors.totals(),
                            "counts": selectors.stage_counts(agents_visible_to(user))}
    return render(request, "portal/home.html", context)
