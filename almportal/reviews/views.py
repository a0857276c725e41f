"""Review pages. Each view finds the object for this user (or 404), parses a form, calls one
service and redirects; the services decide what is allowed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..accounts.models import User
from ..accounts.roles import Role
from ..core.forms import model_choice_field
from ..core.views import refusals_on, refuse_not_permitted
from ..inventory.models import Agent
from . import rules, selectors, services, work
from .forms import CertifyForm, ReassignForm, TaskCompleteForm
from .models import AccessReview, ReviewState, RevocationTask, TaskState
from .work import WORK_SHOWN

PAGE_SIZE = 50


def _review_for(user: User, pk: int) -> AccessReview:
    return get_object_or_404(selectors.reviews_visible_to(user), pk=pk)


def _task_for(user: User, pk: int) -> RevocationTask:
    return get_object_or_404(selectors.revocation_tasks_visible_to(user), pk=pk)


def _require_queue_reader(user: User) -> None:
    if not rules.may_read_queue(user):
        raise PermissionDenied(rules.QUEUE_READERS)


@login_required
def my_work(request):
    return render(request, "reviews/my_work.html",
                  {"sections": work.sections_for(request.user, limit=WORK_SHOWN)})


@login_required
def review_list(request):
    state = request.GET.get("state", "")
    reviews = selectors.reviews_visible_to(request.user).order_by("-due_on", "-pk")
    if state in ReviewState.values:
        reviews = reviews.filter(state=state)
    page = Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reviews/review_list.html", {
        "page": page, "states": ReviewState.choices, "state": state, "now": timezone.now()})


def _detail(request, review: AccessReview, form: CertifyForm | None = None, status: int = 200):
    items = selectors.review_items(review)
    may_certify = rules.may_certify(request.user, review)
    if may_certify and form is None:
        form = CertifyForm(items=items)
    return render(request, "reviews/review_detail.html", {
        "review": review, "items": items, "form": form if may_certify else None,
        "overdue": review.is_overdue(timezone.now())}, status=status)


@login_required
def review_detail(request, pk):
    return _detail(request, _review_for(request.user, pk))


@login_required
@require_POST
@refuse_not_permitted
def review_certify(request, pk):
    review = _review_for(request.user, pk)
    services.require_certifier(request.user, review)
    form = CertifyForm(request.POST, items=selectors.review_items(review))
    if form.is_valid():
        with refusals_on(form) as outcome:
            if form.pending:
                services.access_review_certify(actor=request.user, review=review,
                                               entries=form.entries())
            else:
                services.access_review_complete_empty(actor=request.user, review=review)
        if outcome.ok:
            messages.success(request, "Your decisions are recorded.")
            return redirect(review)
    return _detail(request, review, form, status=400)


@login_required
def task_list(request):
    tasks = selectors.revocation_tasks_visible_to(request.user).order_by("state", "-opened_at")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reviews/task_list.html", {"page": page})


@login_required
def task_detail(request, pk):
    task = _task_for(request.user, pk)
    may_complete = (task.state == TaskState.OPEN
                    and request.user.has_perm("reviews.complete_revocationtask")
                    and not request.user.has_role(Role.AUDITOR))
    return render(request, "reviews/task_detail.html", {
        "task": task, "form": TaskCompleteForm() if may_complete else None})


@login_required
@require_POST
@refuse_not_permitted
def task_complete(request, pk):
    task = _task_for(request.user, pk)
    form = TaskCompleteForm(request.POST)
    if form.is_valid():
        with refusals_on(form) as outcome:
            services.revocation_task_complete(actor=request.user, task=task,
                                              note=form.cleaned_data["note"])
        if outcome.ok:
            messages.success(request, "Revocation recorded as done.")
            return redirect(task)
    return render(request, "reviews/task_detail.html", {"task": task, "form": form}, status=400)


@login_required
def ownerless_queue(request):
    _require_queue_reader(request.user)
    return _queue(request, ReassignForm())


def _queue(request, form: ReassignForm, failed: Agent | None = None, status: int = 200):
    owners = model_choice_field(form, "new_owner").queryset
    assert owners is not None  # ReassignForm always offers its owners
    return render(request, "reviews/ownerless.html", {
        "agents": selectors.ownerless_agents(), "form": form, "failed": failed,
        "owners": list(owners),
        "may_reassign": rules.reassign_refusal(request.user) is None}, status=status)


@login_required
@require_POST
@refuse_not_permitted
def ownerless_reassign_view(request, slug):
    _require_queue_reader(request.user)
    agent: Agent = get_object_or_404(selectors.ownerless_agents(), slug=slug)
    form = ReassignForm(request.POST)
    if form.is_valid():
        with refusals_on(form) as outcome:
            services.ownerless_reassign(actor=request.user, agent=agent,
                                        new_owner=form.cleaned_data["new_owner"],
                                        reason=form.cleaned_data["reason"])
        if outcome.ok:
            messages.success(request, f"{agent} now belongs to {form.cleaned_data['new_owner']}.")
            return redirect("reviews:ownerless")
    return _queue(request, form, failed=agent, status=400)
