"""Decommissioning pages. Each view finds the object for this user (or 404), parses a form,
calls one service and redirects; the services decide what is allowed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..core.views import (
    post_action,
    refusals_on,
    refuse_not_permitted,
)
from ..inventory.choices import CLOSED_STAGES
from ..operations import selectors as operations
from . import rules, selectors, services
from .choices import PlanState, SignOffRole
from .forms import (
    AssignForm,
    CompleteForm,
    HoldForm,
    RetireForm,
    RunForm,
    SignOffForm,
    StartForm,
)

PAGE_SIZE = 25


@login_required
@refuse_not_permitted
def plan_start(request, slug):
    agent = operations.agent_for(request.user, slug)
    if not rules.may_manage(request.user, agent):
        raise PermissionDenied("Only the agent's owner, a delegate, a compliance officer or an "
                               "admin may decommission it.")
    if agent.stage in CLOSED_STAGES:
        raise PermissionDenied(f"{agent} is retired and can no longer change.")
    form = StartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            plan = services.plan_start(actor=request.user, agent=agent, **form.cleaned_data)
        if outcome.ok:
            messages.success(request, f"{agent} is sunsetting; its decommissioning plan is made.")
            return redirect(plan)
    return render(request, "retirement/plan_start.html", {"agent": agent, "form": form})


@login_required
def plan_list(request):
    plans = selectors.plans_visible_to(request.user)
    state = request.GET.get("state", "")
    if state in PlanState.values:
        plans = plans.filter(state=state)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "retirement/plan_list.html", {
        "page": page, "state": state, "states": PlanState.choices})


@login_required
def plan_detail(request, pk):
    plan = selectors.plan_for(request.user, pk)
    user, agent = request.user, plan.agent
    tasks = list(plan.tasks.all())
    manage = rules.may_manage(user, agent)
    archives = selectors.plan_archives(user, plan)
    return render(request, "retirement/plan_detail.html", {
        "plan": plan, "agent": agent, "tasks": tasks,
        "signoffs": list(plan.signoffs.all()),
        "missing": selectors.missing_for_retirement(plan) if plan.state == PlanState.OPEN else [],
        "may_manage": manage,
        "may_work": {t.pk for t in tasks if rules.may_work(user, t, manages=manage)},
        "sign_roles": [r for r in SignOffRole if rules.may_sign(user, plan, r)],
        "archives": archives,
        "final_pending": rules.final_archive_pending(user, plan, archives),
        "people": selectors.assignable_people() if manage and plan.state == PlanState.OPEN
        else [],
    })


def _task_action(form_class, call, done: str):
    @login_required
    @require_POST
    @refuse_not_permitted
    def view(request, pk):
        task = selectors.task_for(request.user, pk)
        post_action(request, form_class(request.POST),
                     lambda data: call(request.user, task, data), done)
        return redirect(task.get_absolute_url())
    return view


task_complete = _task_action(
    CompleteForm, lambda user, task, data: services.task_complete(actor=user, task=task, **data),
    "The task is done.")
task_run = _task_action(
    RunForm, lambda user, task, data: services.task_run(actor=user, task=task),
    "The portal did the task and recorded its proof.")
task_assign = _task_action(
    AssignForm, lambda user, task, data: services.task_assign(actor=user, task=task, **data),
    "The task is assigned.")


@login_required
@require_POST
@refuse_not_permitted
def plan_signoff(request, pk):
    plan = selectors.plan_for(request.user, pk)
    post_action(request, SignOffForm(request.POST), lambda data: services.signoff_record(
        actor=request.user, plan=plan, **data), "Your sign-off is recorded.")
    return redirect(plan)


@login_required
@require_POST
@refuse_not_permitted
def plan_retire(request, pk):
    plan = selectors.plan_for(request.user, pk)
    post_action(request, RetireForm(request.POST), lambda data: services.plan_retire(
        actor=request.user, plan=plan, **data), f"{plan.agent} is retired.")
    return redirect(plan)


@login_required
@refuse_not_permitted
def archive_download(request, pk):
    archive = selectors.archive_for(request.user, pk)
    with refusals_on(request=request) as outcome:
        handle = services.archive_download(actor=request.user, archive=archive)
    if not outcome.ok:
        return redirect(archive.plan or archive.agent)
    return FileResponse(handle, as_attachment=True, filename=archive.file_name,
                        content_type="application/zip",
                        headers={"X-Archive-SHA256": archive.sha256})


@login_required
@require_POST
@refuse_not_permitted
def archive_hold(request, pk):
    archive = selectors.archive_for(request.user, pk)
    post_action(request, HoldForm(request.POST), lambda data: services.archive_hold(
        actor=request.user, archive=archive, **data), "The archive's retention is extended.")
    return redirect(archive.plan or archive.agent)
