"""Pages for an agent's named human overseers and its event log. Each view finds the agent for
this user (or 404), asks operations.rules what to show and a service to act."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..core.views import post_action, refusals_on, refuse_not_permitted
from . import rules, selectors, services
from .choices import EventLogKind
from .forms import OverseerForm, ReasonForm

PAGE_SIZE = 50


@login_required
@refuse_not_permitted
def overseers(request, slug):
    agent = selectors.agent_for(request.user, slug)
    may_assign = rules.may_assign_overseers(request.user, agent)
    form = OverseerForm(request.POST or None, people=selectors.people_who_may_oversee())
    if request.method == "POST":
        if not may_assign:
            raise PermissionDenied("Only the agent's owner, a delegate or an admin name its "
                                   "overseers.")
        if form.is_valid():
            with refusals_on(form) as outcome:
                services.overseer_assign(actor=request.user, agent=agent, **form.cleaned_data)
            if outcome.ok:
                messages.success(request, "Overseer named.")
                return redirect("operations:overseers", slug=agent.slug)
    today = timezone.localdate()
    rows = selectors.agent_overseers(agent)
    return render(request, "operations/overseers.html", {
        "agent": agent, "form": form, "may_assign": may_assign,
        "overseers": [(o, rules.overseer_is_active(o, today), rules.training_is_current(o, today))
                      for o in rows],
        "gap": rules.oversight_gap(agent, rows, today),
    })


@login_required
@require_POST
@refuse_not_permitted
def overseer_end(request, pk):
    overseer = selectors.overseer_for(request.user, pk)
    post_action(request, ReasonForm(request.POST), lambda d: services.overseer_end(
        actor=request.user, overseer=overseer, reason=d["reason"]), "Oversight ended.")
    return redirect("operations:overseers", slug=overseer.agent.slug)


@login_required
def event_log(request, slug):
    agent = selectors.agent_for(request.user, slug)
    rows = selectors.agent_event_log(agent)
    kind = request.GET.get("kind", "")
    if kind in EventLogKind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "operations/event_log.html", {
        "agent": agent, "page": page, "kind": kind, "kinds": EventLogKind.choices,
        "kept_days": rules.EVENT_LOG_MIN_DAYS})
