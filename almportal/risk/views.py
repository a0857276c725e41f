"""Risk pages. Each view finds the object for this user (or 404), parses a form, calls one
service and redirects; the services decide what is allowed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..accounts.models import User
from ..core.views import refusals_on, refuse_not_permitted
from ..inventory.choices import CLOSED_STAGES
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to
from . import rules, selectors, services
from .forms import AssessmentForm, TierForm
from .models import Assessment


def _agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)


def _assessment_for(user: User, pk: int) -> Assessment:
    return get_object_or_404(selectors.assessments_visible_to(user), pk=pk)


@login_required
def index(request):
    return render(request, "risk/index.html", {
        "attention": selectors.assessments_needing_attention(request.user),
        "drafts": (selectors.drafts_awaiting_completion(request.user)
                   if rules.is_assessor(request.user) else []),
    })


@login_required
def agent_assessments(request, slug):
    agent = _agent_for(request.user, slug)
    return render(request, "risk/agent_assessments.html", {
        "agent": agent,
        "assessments": selectors.agent_assessments(agent),
    })


def _save_or_complete(request, form: AssessmentForm, *, agent: Agent,
                      assessment: Assessment | None) -> Assessment:
    """Save the draft (creating it if needed) and, when asked, complete it: all or nothing."""
    with transaction.atomic():
        answers = form.answers()
        if assessment is None:
            assessment = services.assessment_draft(actor=request.user, agent=agent,
                                                   answers=answers)
        elif request.POST.get("action") != "complete":
            assessment = services.assessment_update(actor=request.user, assessment=assessment,
                                                    answers=answers)
        if request.POST.get("action") == "complete":
            assessment = services.assessment_complete(
                actor=request.user, assessment=assessment, answers=answers,
                tier=form.cleaned_data.get("tier", ""),
                justification=form.cleaned_data.get("justification", ""))
    return assessment


def _assessment_form_page(request, *, agent: Agent, assessment: Assessment | None):
    questionnaire = (selectors.questionnaire_with_questions(assessment.questionnaire_id)
                     if assessment else selectors.current_questionnaire())
    if questionnaire is None:
        messages.error(request, "No risk questionnaire is published yet.")
        return redirect("risk:agent-assessments", slug=agent.slug)
    can_complete = rules.may_complete(request.user, agent)
    initial = assessment.answers if assessment else selectors.prefill_answers(agent,
                                                                              questionnaire)
    form = AssessmentForm(request.POST or None, initial=initial, questionnaire=questionnaire,
                          can_complete=can_complete)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            saved = _save_or_complete(request, form, agent=agent, assessment=assessment)
        if outcome.ok:
            done = "completed" if saved.is_completed else "saved as a draft"
            messages.success(request, f"Risk assessment {done}.")
            return redirect(saved)
    answers = form.answers() if form.is_bound and form.is_valid() else initial
    return render(request, "risk/assessment_form.html", {
        "agent": agent, "assessment": assessment, "form": form, "can_complete": can_complete,
        "completion_refusal": (rules.completion_refusal(request.user, agent)
                               if rules.is_assessor(request.user) else None),
        "questionnaire": questionnaire,
        "preview": rules.compute_result(questionnaire, answers),
    })


@login_required
@refuse_not_permitted
def assessment_start(request, slug):
    agent = _agent_for(request.user, slug)
    draft = selectors.open_draft(agent)
    if draft is not None:
        return redirect("risk:assessment-edit", pk=draft.pk)
    if not rules.may_draft(request.user, agent) or agent.stage in CLOSED_STAGES:
        raise PermissionDenied("Only the agent's owner, a delegate, a compliance officer or an "
                               "admin may assess it.")
    return _assessment_form_page(request, agent=agent, assessment=None)


@login_required
@refuse_not_permitted
def assessment_edit(request, pk):
    assessment = _assessment_for(request.user, pk)
    if assessment.is_completed:
        return redirect(assessment)
    if not rules.may_draft(request.user, assessment.agent):
        raise PermissionDenied("Only the agent's owner, a delegate, a compliance officer or an "
                               "admin may edit its assessment.")
    return _assessment_form_page(request, agent=assessment.agent, assessment=assessment)


@login_required
def assessment_detail(request, pk):
    assessment = _assessment_for(request.user, pk)
    questionnaire = selectors.questionnaire_with_questions(assessment.questionnaire_id)
    status = selectors.assessment_freshness(assessment)
    may_set_tier = (status is not None and rules.may_complete(request.user, assessment.agent)
                    and assessment.tier != "unacceptable")
    return render(request, "risk/assessment_detail.html", {
        "assessment": assessment, "agent": assessment.agent, "status": status,
        "answers": [(q, next((o for o in q.options.all()
                              if o.key == assessment.answers.get(q.key)), None))
                    for q in questionnaire.questions.all()],
        "preview": (None if assessment.is_completed
                    else rules.compute_result(questionnaire, assessment.answers)),
        "history": selectors.assessment_history(assessment),
        "tier_form": TierForm(initial={"tier": assessment.tier}) if may_set_tier else None,
        "may_edit": (not assessment.is_completed
                     and rules.may_draft(request.user, assessment.agent)),
    })


@login_required
@require_POST
@refuse_not_permitted
def assessment_set_tier(request, pk):
    assessment = _assessment_for(request.user, pk)
    form = TierForm(request.POST)
    if form.is_valid():
        with refusals_on(request=request) as outcome:
            services.assessment_set_tier(actor=request.user, assessment=assessment,
                                         tier=form.cleaned_data["tier"],
                                         justification=form.cleaned_data["justification"])
        if outcome.ok:
            messages.success(request, "Tier changed.")
    else:
        messages.error(request, "Choose a tier.")
    return redirect(assessment)


def _coverage_context(agents) -> dict:
    report = selectors.coverage_report(agents)
    return {"groups": [(group.label, group.clauses) for group in report.frameworks],
            "counts": report.counts, "total": report.total, "agent_count": report.agent_count}


@login_required
def coverage(request):
    refusal = rules.portfolio_coverage_refusal(request.user)
    if refusal is not None:
        raise PermissionDenied(refusal.message)
    return render(request, "risk/coverage.html", {
        "agent": None, **_coverage_context(selectors.portfolio_agents(request.user))})


@login_required
def agent_coverage(request, slug):
    agent = _agent_for(request.user, slug)
    return render(request, "risk/coverage.html", {"agent": agent, **_coverage_context([agent])})


@login_required
def questionnaire(request):
    return render(request, "risk/questionnaire.html",
                  {"questionnaire": selectors.current_questionnaire()})


@login_required
def tier_policies(request):
    return render(request, "risk/tier_policies.html", {"policies": selectors.tier_policies()})
