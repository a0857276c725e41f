"""Pages for internal audits, management reviews, findings and corrective actions. Each view
finds the object for this user (or 404), asks audit.rules what to show and audit.findings to
act."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..core.views import post_action, refusals_on, refuse_not_permitted
from ..inventory.selectors import agents_visible_to
from . import findings, rules, selectors
from .findings_forms import (
    ActionAssignForm,
    ActionRecordForm,
    ActionVerifyForm,
    AuditPlanForm,
    FindingForm,
    MoveForm,
)

PAGE_SIZE = 25


@login_required
@refuse_not_permitted
def audit_list(request):
    may_plan = rules.may_plan_audit(request.user)
    form = AuditPlanForm(request.POST or None)
    if request.method == "POST":
        if not may_plan:
            raise PermissionDenied("Compliance plans audits and management reviews.")
        if form.is_valid():
            with refusals_on(form) as outcome:
                audit = findings.internal_audit_plan(actor=request.user, **form.cleaned_data)
            if outcome.ok:
                messages.success(request, "Planned.")
                return redirect(audit)
    audits = selectors.internal_audits_visible_to(request.user)
    page = Paginator(audits, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/internal_audits.html", {
        "page": page, "form": form, "may_plan": may_plan})


@login_required
@refuse_not_permitted
def audit_detail(request, pk):
    audit = selectors.internal_audit_for(request.user, pk)
    may_record = rules.may_record_finding(request.user) and rules.finding_refusal(audit) is None
    form = FindingForm(request.POST or None, agents=agents_visible_to(request.user))
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied("Only an auditor records findings, while the audit runs.")
        if form.is_valid():
            with refusals_on(form) as outcome:
                finding = findings.finding_record(actor=request.user, audit=audit,
                                                  **form.cleaned_data)
            if outcome.ok:
                messages.success(request, "Finding recorded.")
                return redirect(finding)
    return render(request, "audit/internal_audit.html", {
        "audit": audit, "form": form, "may_record": may_record,
        "findings": selectors.audit_findings(request.user, audit),
        "may_run": rules.may_run_audit(request.user),
        "moves": sorted(rules.AUDIT_STATES.moves.get(audit.state, ())),
    })


@login_required
@require_POST
@refuse_not_permitted
def audit_move(request, pk):
    audit = selectors.internal_audit_for(request.user, pk)
    post_action(request, MoveForm(request.POST), lambda d: findings.internal_audit_move(
        actor=request.user, audit=audit, state=d["state"], reason=d["reason"]), "Moved on.")
    return redirect(audit)


@login_required
def finding_detail(request, pk):
    finding = selectors.finding_for(request.user, pk)
    user = request.user
    actions = selectors.finding_actions(finding)
    return render(request, "audit/finding.html", {
        "finding": finding, "audit": finding.audit,
        "actions": [(a, rules.may_record_action(user, a) and rules.record_refusal(a) is None,
                     rules.may_verify_action(user, a)) for a in actions],
        "may_assign": rules.may_assign_action(user, finding),
        "assign_form": ActionAssignForm(), "record_form": ActionRecordForm(),
        "verify_form": ActionVerifyForm(),
    })


@login_required
@require_POST
@refuse_not_permitted
def action_assign(request, pk):
    finding = selectors.finding_for(request.user, pk)
    post_action(request, ActionAssignForm(request.POST), lambda d: findings.
                corrective_action_assign(actor=request.user, finding=finding, **d),
                "Corrective action assigned.")
    return redirect(finding)


def _action_step(form_class, call, done: str):
    @login_required
    @require_POST
    @refuse_not_permitted
    def view(request, pk):
        action = selectors.corrective_action_for(request.user, pk)
        post_action(request, form_class(request.POST),
                    lambda d: call(actor=request.user, action=action, **d), done)
        return redirect(action.finding)
    return view


action_record = _action_step(ActionRecordForm, findings.corrective_action_record,
                             "Action recorded; an auditor will verify it.")
action_verify = _action_step(ActionVerifyForm, findings.corrective_action_verify,
                             "Verification recorded.")
