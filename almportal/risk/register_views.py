"""Risk register and impact assessment pages. Each finds the agent for this user (or 404),
parses a form, calls one risk.register service and redirects; risk.rules says what to show."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..accounts.models import User
from ..core.views import refusals_on, refuse_not_permitted
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import register, rules, selectors
from .choices import RiskStatus, TreatmentStatus
from .models import ImpactAssessment, RiskEntry, Treatment
from .register_forms import AcceptanceForm, ImpactForm, RiskEntryForm, TreatmentForm


def _agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)


def _row_for(agent: Agent, pk: int) -> selectors.RegisterRow:
    rows = selectors.register_rows(agent, pk=pk)
    if not rows:
        raise Http404("No such risk.")
    return rows[0]


def _keep(request, form, call, done: str):
    """A POST of a page's own form: refused (403) to those who get no form; on success a
    message and the object made, else None and the page is drawn again with the errors."""
    if request.method != "POST":
        return None
    if form is None:
        raise PermissionDenied("Only the agent's owner, a delegate, a compliance officer or an "
                               "admin may change this.")
    if not form.is_valid():
        return None
    with refusals_on(form) as outcome:
        made = call(form.data_for_service())
    if not outcome.ok:
        return None
    messages.success(request, done)
    return made


# --- Register --------------------------------------------------------------------------------

@login_required
@refuse_not_permitted
def register_page(request, slug):
    agent = _agent_for(request.user, slug)
    may_keep = rules.may_keep_register(request.user, agent)
    form = RiskEntryForm(request.POST or None) if may_keep else None
    entry = _keep(request, form, lambda data: register.risk_entry_create(
        actor=request.user, agent=agent, data=data), "Risk recorded.")
    if entry is not None:
        return redirect(entry)
    return render(request, "risk/register.html", {
        "agent": agent, "rows": selectors.register_rows(agent), "form": form,
        "may_keep": may_keep})


def _entry_context(request, agent: Agent, row, **forms) -> dict:
    may_keep = rules.may_keep_register(request.user, agent)
    open_ = row.entry.status != RiskStatus.CLOSED
    refusal = rules.acceptance_refusal(request.user, row.entry, row.treatments)
    return {
        "agent": agent, "row": row, "entry": row.entry, "may_keep": may_keep,
        "entry_form": forms.get("entry_form") or (RiskEntryForm(initial={
            "title": row.entry.title, "description": row.entry.description,
            "likelihood": row.entry.likelihood, "impact": row.entry.impact,
            "owner": row.entry.owner.username}) if may_keep and open_ else None),
        "treatment_form": forms.get("treatment_form") or (TreatmentForm(initial={
            "status": TreatmentStatus.PLANNED}) if may_keep and open_ else None),
        "accept_form": forms.get("accept_form") or (AcceptanceForm() if refusal is None
                                                    else None),
        "accept_refusal": refusal if rules.is_accountable(request.user, agent) else None,
        "statuses": TreatmentStatus.choices,
        "history": row.entry.history.select_related("history_user")[:20],
    }


@login_required
@refuse_not_permitted
def risk_entry(request, slug, pk):
    agent = _agent_for(request.user, slug)
    return render(request, "risk/risk_entry.html",
                  _entry_context(request, agent, _row_for(agent, pk)))


def _entry_post(request, slug, pk, form_class, name: str, call, done: str):
    """Run one service for a form of the risk page; redraw the page with its errors."""
    agent = _agent_for(request.user, slug)
    entry = get_object_or_404(RiskEntry, agent=agent, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        with refusals_on(form) as outcome:
            call(entry, form)
        if outcome.ok:
            messages.success(request, done)
            return redirect("risk:risk-entry", slug=agent.slug, pk=entry.pk)
    return render(request, "risk/risk_entry.html",
                  _entry_context(request, agent, _row_for(agent, pk), **{name: form}),
                  status=400)


@login_required
@require_POST
@refuse_not_permitted
def risk_entry_edit(request, slug, pk):
    return _entry_post(request, slug, pk, RiskEntryForm, "entry_form", lambda entry, form:
                       register.risk_entry_update(actor=request.user, entry=entry,
                                                  data=form.data_for_service()), "Risk saved.")


def _set_status(request, allowed, call) -> None:
    """A small status form of the risk page: the service's answer as a message."""
    wanted = request.POST.get("status", "")
    if wanted not in allowed:
        messages.error(request, "Choose one of the listed statuses.")
        return
    with refusals_on(request=request) as outcome:
        call(wanted)
    if outcome.ok:
        messages.success(request, "Status saved.")


@login_required
@require_POST
@refuse_not_permitted
def risk_entry_status(request, slug, pk):
    entry = get_object_or_404(RiskEntry, agent=_agent_for(request.user, slug), pk=pk)
    _set_status(request, (RiskStatus.OPEN, RiskStatus.CLOSED), lambda wanted:
                register.risk_entry_update(actor=request.user, entry=entry,
                                           data={"status": wanted},
                                           reason=request.POST.get("reason", "")[:1000]))
    return redirect(entry)


@login_required
@require_POST
@refuse_not_permitted
def treatment_add(request, slug, pk):
    return _entry_post(request, slug, pk, TreatmentForm, "treatment_form", lambda entry, form:
                       register.treatment_create(actor=request.user, entry=entry,
                                                 data=form.data_for_service()),
                       "Treatment recorded.")


@login_required
@require_POST
@refuse_not_permitted
def treatment_status(request, slug, pk):
    treatment = get_object_or_404(Treatment, risk_entry__agent=_agent_for(request.user, slug),
                                  pk=pk)
    _set_status(request, TreatmentStatus.values, lambda wanted: register.treatment_update(
        actor=request.user, treatment=treatment, data={"status": wanted}))
    return redirect("risk:risk-entry", slug=slug, pk=treatment.risk_entry_id)


@login_required
@require_POST
@refuse_not_permitted
def acceptance_sign(request, slug, pk):
    return _entry_post(request, slug, pk, AcceptanceForm, "accept_form", lambda entry, form:
                       register.acceptance_sign(actor=request.user, entry=entry,
                                                statement=form.cleaned_data["statement"]),
                       "Residual risk accepted.")


# --- Impact assessment -----------------------------------------------------------------------

def _version_for(user: User, slug: str, number: int) -> ImpactAssessment:
    version = selectors.impact_assessment(_agent_for(user, slug), number)
    if version is None:
        raise Http404("No such version.")
    return version


@login_required
@refuse_not_permitted
def impact_page(request, slug):
    """The versions, newest first, and the form that edits the draft or starts a version."""
    agent = _agent_for(request.user, slug)
    versions = selectors.impact_assessments(agent)
    latest = versions[0] if versions else None
    may_keep = rules.may_keep_register(request.user, agent)
    initial = {name: getattr(latest, name) for name in rules.IMPACT_FIELDS} if latest else {}
    form = ImpactForm(request.POST or None, initial=initial) if may_keep else None
    version = _keep(request, form, lambda data: register.impact_assessment_save(
        actor=request.user, agent=agent, data=data)[0], "Impact assessment draft saved.")
    if version is not None:
        return redirect(version)
    return render(request, "risk/impact.html", {
        "agent": agent, "versions": versions, "latest": latest, "form": form})


@login_required
@refuse_not_permitted
def impact_detail(request, slug, number):
    version = _version_for(request.user, slug, number)
    refusal = rules.impact_sign_refusal(request.user, version)
    return render(request, "risk/impact_detail.html", {
        "agent": version.agent, "version": version, "may_sign": refusal is None,
        "missing": rules.impact_missing(version),
        "hash_matches": (not version.is_signed
                         or version.content_hash == rules.impact_hash(version))})


@login_required
@require_POST
@refuse_not_permitted
def impact_sign(request, slug, number):
    version = _version_for(request.user, slug, number)
    with refusals_on(request=request) as outcome:
        register.impact_assessment_sign(actor=request.user, assessment=version)
    if outcome.ok:
        messages.success(request, f"Version {number} signed.")
    return redirect(version)
