"""Operations pages. Each view finds the object for this user (or 404), parses a form, calls one
service and redirects; the services decide what is allowed."""

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..core.errors import Conflict
from ..core.keyset import Sort, keyset_page
from ..core.views import post_action, refusals_on, refuse_not_permitted
from . import rules, selectors, services
from .charts import canary_against_stable, dashboard_charts
from .choices import CANARY_STEPS, IncidentStatus, Severity, ThresholdMetric
from .contract import collector_yaml, has_contract
from .forms import (
    ClaimForm,
    DeployForm,
    IncidentForm,
    MonitoringForm,
    NoteForm,
    ReasonForm,
    ReviewForm,
    SeriousForm,
    StatusForm,
    StepForm,
    SuspendForm,
    TelemetryNameForm,
)

# The incident list's columns and what each sorts by (?sort=<key>, "-<key>" descending).
INCIDENT_SORTS = {
    "title": Sort("Incident", "title"),
    "agent": Sort("Agent", "agent__name"),
    "severity": Sort("Severity", "severity", tuple(Severity.values)),
    "status": Sort("Status", "status", tuple(IncidentStatus.values)),
    "owner": Sort("Owner"),
    "due": Sort("Report due"),
    "opened": Sort("Opened", "pk"),  # numbered as they are opened
}
PAGE_SIZE = 25


# --- Dashboard ----------------------------------------------------------------------------

@login_required
def dashboard(request, slug):
    agent = selectors.agent_for(request.user, slug)
    production = selectors.production()
    if production is None:
        raise Http404("No production environment is configured.")
    deployment = selectors.active_deployment(agent, production)
    settings = getattr(agent, "monitoring", None)
    thresholds = services.effective_thresholds(agent, settings)
    charts = dashboard_charts(agent, production, settings=settings, deployment=deployment,
                              thresholds=thresholds)
    return render(request, "operations/dashboard.html", {
        "agent": agent, "deployment": deployment,
        "runtime": selectors.runtime_status(agent, production),
        "charts": charts, "canary_rows": canary_against_stable(charts),
        "thresholds": [(ThresholdMetric(metric).label, bound)
                       for metric, bound in thresholds.items()],
        "open_alerts": selectors.alerts_visible_to(request.user).filter(
            agent=agent, cleared_at__isnull=True),
        "telemetry_names": agent.telemetry_names.all(),
        "may_map_telemetry": rules.may_map_telemetry(request.user, agent),
        "before_registration": selectors.samples_before_registration(agent)[:50],
    })


@login_required
@require_POST
@refuse_not_permitted
def telemetry_name_add(request, slug):
    agent = selectors.agent_for(request.user, slug)
    post_action(request, TelemetryNameForm(request.POST), lambda d: services.telemetry_name_add(
        actor=request.user, agent=agent, name=d["name"]), "Telemetry name mapped.")
    return redirect("operations:dashboard", slug=agent.slug)


# --- Deployments --------------------------------------------------------------------------

@login_required
@refuse_not_permitted
def deployments(request, slug):
    agent = selectors.agent_for(request.user, slug)
    may_deploy = rules.may_deploy(request.user, agent)
    form = DeployForm(request.POST or None, agent=agent)
    if request.method == "POST":
        if not may_deploy:
            raise PermissionDenied("Only the agent's owner, a delegate or an admin may deploy it.")
        if form.is_valid():
            with refusals_on(form) as outcome:
                deployment = _deploy(request.user, agent, form)
            if outcome.ok:
                messages.success(request, f"Deployed to {deployment.environment}.")
                return redirect(deployment)
    return render(request, "operations/deployments.html", {
        "agent": agent, "form": form, "may_deploy": may_deploy,
        "active": selectors.active_by_environment(agent),
        "deployments": selectors.agent_deployments(agent)[:50],
    })


def _deploy(user, agent, form: DeployForm):
    data = form.cleaned_data
    if data["strategy"] == "rainbow":
        routes = [services.RouteSpec(release, audience) for release, audience in
                  form.rainbow_rows()]
    else:
        routes = [services.RouteSpec(data["release"])]
    return services.deployment_start(
        actor=user, agent=agent, environment=data["environment"], strategy=data["strategy"],
        routes=routes, reason=data["reason"], canary_weight=data.get("canary_weight"))


@login_required
def deployment_detail(request, pk):
    deployment = selectors.deployment_for(request.user, pk)
    return render(request, "operations/deployment_detail.html", {
        "deployment": deployment, "agent": deployment.agent,
        "may_deploy": rules.may_deploy(request.user, deployment.agent),
        "rollback_refusal": rules.rollback_refusal(deployment),
        "steps": [w for w in CANARY_STEPS if w > (deployment.canary_weight or 0)],
        "history": selectors.deployment_history(deployment),
    })


@login_required
@require_POST
@refuse_not_permitted
def deployment_promote(request, pk):
    deployment = selectors.deployment_for(request.user, pk)
    post_action(request, StepForm(request.POST), lambda d: services.canary_promote(
        actor=request.user, deployment=deployment, weight=d["weight"], reason=d["reason"]),
        "Canary promoted.")
    return redirect(deployment)


@login_required
@require_POST
@refuse_not_permitted
def deployment_rollback(request, pk):
    deployment = selectors.deployment_for(request.user, pk)
    done = post_action(request, ReasonForm(request.POST), lambda d: services.deployment_rollback(
        actor=request.user, deployment=deployment, reason=d["reason"]), "Rolled back.")
    return redirect(done.result if done else deployment)


# --- Kill switch --------------------------------------------------------------------------

@login_required
def kill_switch(request, slug):
    agent = selectors.agent_for(request.user, slug)
    return render(request, "operations/kill_switch.html", {
        "agent": agent,
        "may_suspend": rules.may_suspend(request.user, agent),
        "may_resume": rules.may_resume(request.user, agent),
        "needs_compliance": rules.resume_needs_compliance(agent),
        "suspensions": selectors.suspensions(agent)[:50],
        "polls": selectors.runtime_polls(agent)[:selectors.RECENT_POLLS],
    })


@login_required
@require_POST
@refuse_not_permitted
def agent_suspend(request, slug):
    agent = selectors.agent_for(request.user, slug)
    post_action(request, SuspendForm(request.POST), lambda d: services.agent_suspend(
        actor=request.user, agent=agent, reason=d["reason"], drill=d["drill"]),
        f"{agent} is suspended.")
    return redirect("operations:kill-switch", slug=agent.slug)


@login_required
@require_POST
@refuse_not_permitted
def agent_resume(request, slug):
    agent = selectors.agent_for(request.user, slug)
    post_action(request, ReasonForm(request.POST), lambda d: services.agent_resume(
        actor=request.user, agent=agent, reason=d["reason"]), f"{agent} is live again.")
    return redirect("operations:kill-switch", slug=agent.slug)


# --- Monitoring settings ------------------------------------------------------------------

@login_required
@refuse_not_permitted
def monitoring(request, slug):
    agent = selectors.agent_for(request.user, slug)
    settings = getattr(agent, "monitoring", None)
    form = MonitoringForm(request.POST or None, initial=MonitoringForm.initial_from(settings))
    may_tune = rules.may_tune_monitoring(request.user, agent)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            services.monitoring_settings_update(actor=request.user, agent=agent,
                                                data=form.service_data(),
                                                reason=form.cleaned_data["reason"])
        if outcome.ok:
            messages.success(request, "Monitoring settings saved.")
            return redirect("operations:monitoring", slug=agent.slug)
    elif request.method == "POST" and not may_tune:
        raise PermissionDenied("You may not tune this agent's monitoring.")
    return render(request, "operations/monitoring.html", {
        "agent": agent, "form": form, "may_tune": may_tune, "settings": settings,
        "thresholds": services.effective_thresholds(agent, settings),
    })


# --- Alerts -------------------------------------------------------------------------------

@login_required
def alert_list(request):
    alerts = selectors.alerts_visible_to(request.user)
    if request.GET.get("open") != "0":
        alerts = alerts.filter(cleared_at__isnull=True)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "operations/alert_list.html",
                  {"page": page, "show_all": request.GET.get("open") == "0"})


@login_required
def alert_detail(request, pk):
    alert = selectors.alert_for(request.user, pk)
    return render(request, "operations/alert_detail.html", {
        "alert": alert, "agent": alert.agent,
        "may_open": rules.may_open_incident(request.user, alert.agent),
        "history": alert.history.select_related("history_user").order_by("history_date"),
    })


@login_required
@require_POST
@refuse_not_permitted
def alert_open_incident(request, pk):
    alert = selectors.alert_for(request.user, pk)
    form = IncidentForm(request.POST, agent=alert.agent)
    done = post_action(request, form, lambda d: services.incident_open(
        actor=request.user, agent=alert.agent, title=d["title"], severity=d["severity"],
        description=d["description"], alert=alert), "Incident opened.")
    return redirect(done.result if done else alert)


# --- Incidents ----------------------------------------------------------------------------

@login_required
def incident_list(request):
    incidents = selectors.incidents_visible_to(request.user)
    chosen = [s for s in request.GET.getlist("status") if s in IncidentStatus.values]
    if chosen:
        incidents = incidents.filter(status__in=chosen)
    page = keyset_page(incidents, request.GET, INCIDENT_SORTS, size=PAGE_SIZE,
                       default="-opened")
    return render(request, "operations/incident_list.html", {
        "page": page, "chosen": chosen, "statuses": IncidentStatus.choices})


@login_required
@refuse_not_permitted
def incident_create(request, slug):
    agent = selectors.agent_for(request.user, slug)
    if not rules.may_open_incident(request.user, agent):
        raise PermissionDenied("Only compliance, the agent's owner or a delegate open incidents.")
    form = IncidentForm(request.POST or None, agent=agent)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            incident = services.incident_open(actor=request.user, agent=agent, **form.cleaned_data)
        if outcome.ok:
            messages.success(request, "Incident opened.")
            return redirect(incident)
    return render(request, "operations/incident_form.html", {"agent": agent, "form": form})


@login_required
def incident_detail(request, pk):
    incident = selectors.incident_for(request.user, pk)
    user = request.user
    return render(request, "operations/incident_detail.html", {
        "incident": incident, "agent": incident.agent,
        "may_work": rules.may_work_incident(user, incident.agent),
        "may_manage": rules.may_manage_incidents(user),
        "moves": sorted(services.incident_states.moves.get(incident.status, ())),
        "note_form": NoteForm(), "serious_form": SeriousForm(),
        "review_form": ReviewForm(agent=incident.agent, initial={
            "review": incident.post_incident_review,
            "corrective_release": incident.corrective_release_id}),
    })


def _incident_action(form_class, call, done: str):
    @login_required
    @require_POST
    @refuse_not_permitted
    def view(request, pk):
        incident = selectors.incident_for(request.user, pk)
        kwargs = {"agent": incident.agent} if form_class is ReviewForm else {}
        post_action(request, form_class(request.POST, **kwargs),
                     lambda d: call(request.user, incident, d), done)
        return redirect(incident)
    return view


incident_status = _incident_action(StatusForm, lambda u, i, d: services.incident_set_status(
    actor=u, incident=i, status=d["status"], reason=d["reason"]), "Status changed.")
incident_note = _incident_action(NoteForm, lambda u, i, d: services.incident_add_note(
    actor=u, incident=i, text=d["text"]), "Note added.")
incident_review = _incident_action(ReviewForm, lambda u, i, d: services.incident_update_review(
    actor=u, incident=i, review=d["review"], corrective_release=d["corrective_release"]),
    "Review saved.")
incident_serious = _incident_action(SeriousForm, lambda u, i, d: services.incident_mark_serious(
    actor=u, incident=i, kind=d["kind"], aware_at=d["aware_at"], reason=d["reason"]),
    "Marked as a serious incident.")
incident_reported = _incident_action(ReasonForm, lambda u, i, d: services.incident_mark_reported(
    actor=u, incident=i, reason=d["reason"]), "Report recorded.")


# --- Discovery ----------------------------------------------------------------------------

@login_required
def finding_list(request):
    if not rules.may_triage_findings(request.user):
        raise PermissionDenied("The discovery queue is compliance's.")
    findings = selectors.findings_visible_to(request.user)
    status = request.GET.get("status", "open")
    if status in ("open", "claimed", "dismissed"):
        findings = findings.filter(status=status)
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "operations/finding_list.html", {"page": page, "status": status})


@login_required
def finding_detail(request, pk):
    finding = selectors.finding_for(request.user, pk)
    return render(request, "operations/finding_detail.html", {
        "finding": finding, "claim_form": ClaimForm(owners=selectors.possible_owners()),
        "samples": finding.samples.order_by("-timestamp", "-pk")[:50],
        "history": finding.history.select_related("history_user"),
    })


@login_required
@require_POST
@refuse_not_permitted
def finding_claim(request, pk):
    finding = selectors.finding_for(request.user, pk)
    form = ClaimForm(request.POST, owners=selectors.possible_owners())
    post_action(request, form, lambda d: services.finding_claim(
        actor=request.user, finding=finding, owner=d["owner"], reason=d["reason"]),
        "Claimed: an intake draft was filed for its owner.")
    return redirect(finding)


@login_required
@require_POST
@refuse_not_permitted
def finding_dismiss(request, pk):
    finding = selectors.finding_for(request.user, pk)
    post_action(request, ReasonForm(request.POST), lambda d: services.finding_dismiss(
        actor=request.user, finding=finding, reason=d["reason"]), "Dismissed.")
    return redirect(finding)


# --- Telemetry contract -------------------------------------------------------------------

@login_required
@refuse_not_permitted
def telemetry_contract(request, slug, number):
    release = selectors.contract_release_for(request.user, slug, number)
    if not has_contract(release):
        raise Conflict("A telemetry contract is offered once the release is approved.")
    config = collector_yaml(release, django_settings.SITE_URL)
    if request.GET.get("download"):
        response = HttpResponse(config, content_type="application/yaml")
        response["Content-Disposition"] = (f'attachment; filename="otel-collector-'
                                           f'{release.agent.slug}-{release.number}.yaml"')
        return response
    return render(request, "operations/telemetry_contract.html", {
        "release": release, "agent": release.agent, "config": config})
