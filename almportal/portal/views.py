from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..accounts.roles import Role
from ..core import lists
from ..core.views import refusals_on, refuse_not_permitted
from ..inventory import services as inventory_services
from ..reviews import work
from . import selectors
from .health import system_health
from .portfolio import portfolio


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
    user = request.user
    waiting = work.sections_for(user, limit=lists.SHORTLIST)
    context: dict = {"waiting": waiting,
                     "work": {s.key.replace("-", "_"): s for s in waiting}}
    if user.has_role(Role.BUSINESS_OWNER):
        context["owner"] = selectors.owner_home(user)
    oversees = user.has_role(Role.COMPLIANCE) or user.has_role(Role.ADMIN)
    audits = user.has_role(Role.AUDITOR) or user.has_role(Role.ADMIN)
    counts = selectors.fleet_counts(user) if oversees or audits else []  # once for both
    if oversees:
        context["compliance"] = selectors.compliance_home(user, counts)
    if user.has_role(Role.SECURITY):
        context["security"] = selectors.security_home(user)
    if audits:
        context["auditor"] = selectors.auditor_home(user, counts)
    if user.has_role(Role.ADMIN):
        context["admin"] = {"totals": selectors.totals(), "health": system_health()}
    return render(request, "portal/home.html", context)


@login_required
def portfolio_view(request):
    """Charts over every agent the user may see: all of them for the oversight roles, a
    business owner's own for an owner."""
    return render(request, "portal/portfolio.html", portfolio(request.user))


@login_required
@require_POST
@refuse_not_permitted
def intake_accept(request, slug):
    """Accept an intake from the home page's triage list: inline with htmx (the row is
    replaced), or a plain form post that comes back to the home page."""
    agent = get_object_or_404(selectors.intakes_to_triage(request.user), slug=slug)
    with refusals_on() as outcome:  # shown in the row (htmx) or as a message
        agent = inventory_services.agent_accept(actor=request.user, agent=agent)
    error = outcome.error.message if outcome.error else ""
    if request.headers.get("HX-Request"):
        return render(request, "portal/_intake_row.html",
                      {"agent": agent, "done": not error, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{agent}” accepted for development.")
    return redirect("portal:home")
