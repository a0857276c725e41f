"""Inventory pages. Each view finds the object for this user (or 404), parses a form, calls one
service and redirects; the services decide what is allowed."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ..accounts.models import User
from ..accounts.permissions import can
from ..accounts.roles import Role
from ..core.keyset import keyset_page
from ..core.views import refusals_on, refuse_not_permitted
from . import rules, services
from .choices import Stage
from .filters import AGENT_SORTS, AgentFilter
from .forms import (
    COMPONENT_FORMS,
    KIND_LABELS,
    AgentEditForm,
    AgentForm,
    DelegateForm,
    NoteForm,
    ServiceRightsForm,
)
from .models import COMPONENT_MODELS, Agent, Credential
from .selectors import (
    agent_components,
    agent_delegates,
    agent_history,
    agent_service_accounts,
    agents_visible_to,
)

PAGE_SIZE = 25
# What the list shows of each agent (not its long texts).
LIST_COLUMNS = ("name", "slug", "stage", "risk_tier", "business_unit", "autonomy_level",
                "data_classification", "business_owner__username",
                "business_owner__first_name", "business_owner__last_name")


def _agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)


def _require_change(user: User, agent: Agent) -> None:
    """Form pages are offered only to those who may change the agent now (403 or 409 page);
    the service still decides on submit."""
    services.require_agent_change(user, agent)


@dataclass
class AgentActions:
    """Which buttons the page shows this user. Display only: the services enforce."""

    change: bool
    submit: bool
    withdraw: bool
    triage: bool
    release: bool

    @classmethod
    def of(cls, user: User, agent: Agent) -> "AgentActions":
        change = rules.may_change(user, agent)
        triage = agent.stage == Stage.PROPOSED and rules.triage_refusal(user, agent) is None
        return cls(
            change=change,
            submit=change and rules.agent_stages.allows(agent.stage, Stage.PROPOSED),
            withdraw=change and agent.stage in (Stage.PROPOSED, Stage.DECLINED),
            triage=triage,
            release=change and agent.stage in (Stage.IN_DEVELOPMENT, Stage.LIVE,
                                               Stage.SUSPENDED),
        )


def _next_or(request, default: str) -> str:
    """Where a button asked to return to (the queue or the agent page), if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return default


# --- Agents -------------------------------------------------------------------------------

@login_required
def agent_list(request):
    agent_filter = AgentFilter(request.GET, queryset=agents_visible_to(request.user))
    rows = agent_filter.qs.select_related(None).select_related("business_owner")
    page = keyset_page(rows.only(*LIST_COLUMNS), request.GET, AGENT_SORTS, size=PAGE_SIZE,
                       default="name")
    return render(request, "inventory/agent_list.html", {
        "filter": agent_filter, "page": page,
        "list_url": reverse("inventory:agent-list"),  # an agent's page is this and its slug
        "may_file": can(request.user, "inventory.add_agent"),
    })


@login_required
@refuse_not_permitted
def agent_create(request):
    if not can(request.user, "inventory.add_agent"):
        raise PermissionDenied("Your role may not file intakes.")
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            with transaction.atomic():
                agent = services.agent_create(actor=request.user, data=form.service_data())
                if request.POST.get("action") == "submit":
                    agent = services.agent_submit_intake(actor=request.user, agent=agent)
        if outcome.ok:
            submitted = agent.stage == Stage.PROPOSED
            messages.success(request, f"Intake “{agent}” " + (
                "submitted for triage." if submitted else "saved as a draft."))
            return redirect(agent)
    return render(request, "inventory/agent_form.html", {"form": form, "creating": True})


@login_required
@refuse_not_permitted
def agent_edit(request, slug):
    agent = _agent_for(request.user, slug)
    _require_change(request.user, agent)
    form = AgentEditForm(request.POST or None, instance=agent)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            services.agent_update(actor=request.user, agent=agent, data=form.service_data(),
                                  reason=form.cleaned_data["reason"])
        if outcome.ok:
            messages.success(request, "Changes saved.")
            return redirect(agent)
    return render(request, "inventory/agent_form.html", {"form": form, "agent": agent})


@login_required
def agent_detail(request, slug):
    agent = _agent_for(request.user, slug)
    components = agent_components(agent)
    return render(request, "inventory/agent_detail.html", {
        "agent": agent,
        "actions": AgentActions.of(request.user, agent),
        "components": [(kind, KIND_LABELS[kind], components[kind]) for kind in COMPONENT_MODELS],
        "releases": agent.releases.select_related("created_by"),
        "delegates": agent_delegates(agent),
        "delegate_form": DelegateForm(),
        "history": agent_history(agent),
    })


def _stage_action(service, done: str):
    """A POST button that moves an agent through one stage service, with an optional note."""

    @login_required
    @require_POST
    @refuse_not_permitted
    def view(request, slug):
        agent = _agent_for(request.user, slug)
        form = NoteForm(request.POST)
        form.is_valid()
        with refusals_on(request=request) as outcome:
            service(actor=request.user, agent=agent, reason=form.cleaned_data.get("reason", ""))
        if outcome.ok:
            messages.success(request, done.format(agent=agent))
        return redirect(_next_or(request, agent.get_absolute_url()))

    view.__name__ = service.__name__
    return view


agent_submit = _stage_action(services.agent_submit_intake, "“{agent}” submitted for triage.")
agent_withdraw = _stage_action(services.agent_withdraw_intake, "“{agent}” is a draft again.")
agent_accept = _stage_action(services.agent_accept, "“{agent}” accepted for development.")


@login_required
@refuse_not_permitted
def agent_decline(request, slug):
    agent = _agent_for(request.user, slug)
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            services.agent_decline(actor=request.user, agent=agent,
                                   reason=form.cleaned_data["reason"])
        if outcome.ok:
            messages.success(request, f"“{agent}” declined.")
            return redirect(_next_or(request, agent.get_absolute_url()))
    return render(request, "inventory/agent_decline.html", {"agent": agent, "form": form})


@login_required
def intake_queue(request):
    if not can(request.user, "inventory.triage_agent"):
        raise PermissionDenied("Only compliance officers triage intakes.")
    proposed = agents_visible_to(request.user).filter(stage=Stage.PROPOSED).order_by("updated_at")
    return render(request, "inventory/intake_queue.html", {"agents": proposed})


# --- Delegates ----------------------------------------------------------------------------

@login_required
@require_POST
@refuse_not_permitted
def delegate_add(request, slug):
    agent = _agent_for(request.user, slug)
    form = DelegateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a person to make a delegate.")
        return redirect(agent)
    with refusals_on(request=request) as outcome:
        services.agent_add_delegate(actor=request.user, agent=agent, user=form.cleaned_data["user"])
    if outcome.ok:
        messages.success(request, f"{form.cleaned_data['user']} is now a delegate.")
    return redirect(agent)


@login_required
@require_POST
@refuse_not_permitted
def delegate_remove(request, slug, user_id):
    agent = _agent_for(request.user, slug)
    person = get_object_or_404(User, pk=user_id)
    with refusals_on(request=request) as outcome:
        services.agent_remove_delegate(actor=request.user, agent=agent, user=person)
    if outcome.ok:
        messages.success(request, f"{person} is no longer a delegate.")
    return redirect(agent)


# --- Service accounts ---------------------------------------------------------------------

@login_required
@refuse_not_permitted
def service_accounts(request, slug):
    """The narrow rights CI and gateway accounts hold on the agent; admins set them."""
    agent = _agent_for(request.user, slug)
    is_admin = request.user.has_role(Role.ADMIN)
    form = ServiceRightsForm(request.POST or None) if is_admin else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only admins grant service accounts rights on agents.")
        if form.is_valid():
            data = form.cleaned_data
            with refusals_on(form) as outcome:
                services.service_account_set_rights(
                    actor=request.user, agent=agent, account=data["account"],
                    rights=data["rights"], reason=data["reason"])
            if outcome.ok:
                messages.success(request, f"Rights of {data['account']} saved.")
                return redirect("inventory:service-accounts", slug=agent.slug)
    return render(request, "inventory/service_accounts.html", {
        "agent": agent, "accounts": agent_service_accounts(agent), "form": form},
        status=400 if form is not None and form.errors else 200)


# --- Components ---------------------------------------------------------------------------

@login_required
@refuse_not_permitted
def component_create(request, slug, kind):
    if kind not in COMPONENT_FORMS:
        raise Http404("No such kind of component.")
    agent = _agent_for(request.user, slug)
    _require_change(request.user, agent)
    form = COMPONENT_FORMS[kind](request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form._meta.fields
        assert fields is not None  # every component form lists its fields
        with refusals_on(form) as outcome:
            component = services.component_add_version(
                actor=request.user, agent=agent, kind=kind,
                data={name: form.cleaned_data[name] for name in fields})
        if outcome.ok:
            messages.success(request, f"{component} added.")
            return redirect(agent)
    return render(request, "inventory/component_form.html", {
        "agent": agent, "form": form, "kind": kind, "kind_label": KIND_LABELS[kind]})


@login_required
@require_POST
@refuse_not_permitted
def credential_revoke(request, slug, pk):
    agent = _agent_for(request.user, slug)
    credential = get_object_or_404(Credential, agent=agent, pk=pk)
    form = NoteForm(request.POST)
    form.is_valid()
    services.credential_revoke(actor=request.user, credential=credential,
                               reason=form.cleaned_data.get("reason", ""))
    messages.success(request, f"{credential} revoked.")
    return redirect(agent)
