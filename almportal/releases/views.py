"""Readiness pages: the release's gate, checklist, evaluations and sign-offs, the inbox, and
evidence downloads. Each view finds the object for this user (or 404), parses a form and calls
one service; the services decide what is allowed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..core.errors import DomainError, NotPermitted
from ..core.views import refusals_on, refuse_not_permitted
from ..inventory.models import Release
from ..inventory.selectors import releases_visible_to
from . import rules, selectors, services
from .choices import EvidenceKind, RunSource
from .forms import EvidenceForm, ItemAssignForm, ItemStatusForm, RunForm, SignOffForm, SuiteForm
from .models import ChecklistItem

PAGE_SIZE = 25


def _release_for(user, pk: int) -> Release:
    return get_object_or_404(releases_visible_to(user), pk=pk)


def _item_for(user, pk: int) -> ChecklistItem:
    return get_object_or_404(selectors.checklist_items_visible_to(user), pk=pk)


def _refused(request, error: DomainError) -> None:
    if isinstance(error, NotPermitted):
        raise error
    for field, texts in error.errors.items():
        for text in texts:
            messages.error(request, text if field == "__all__" else f"{field}: {text}")


def _form_errors(request, form) -> None:
    for field, texts in form.errors.items():
        for text in texts:
            messages.error(request, text if field == "__all__" else f"{field}: {text}")


@login_required
def inbox(request):
    return render(request, "releases/inbox.html",
                  {"work": selectors.work_waiting_for(request.user)})


@login_required
def release_list(request):
    page = Paginator(selectors.releases_in_review(request.user), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "releases/release_list.html", {"page": page})


@login_required
def release_detail(request, pk):
    release = _release_for(request.user, pk)
    suites = selectors.agent_suites(release.agent)
    facts = selectors.signing_facts(release)
    signing = rules.signing_options(request.user, facts)
    runs = [(run, rules.run_counts(run, facts.involvement))
            for run in selectors.release_runs(release)]  # each with whether it counts
    return render(request, "releases/release_detail.html", {
        "release": release, "agent": release.agent, "gate": services.release_gate(release),
        "checklist": selectors.release_checklist(release),
        "runs": runs, "suites": suites,
        "trends": [(s, selectors.evaluation_trend(s)) for s in suites],
        "signoffs": selectors.release_signoffs(release),
        "may_manage": services.may_manage(request.user, release),
        "may_record_runs": services.may_record_runs(request.user, release),
        "signing": signing, "signing_order": selectors.signing_order(facts),
        "sign_form": SignOffForm(roles=signing.roles), "suite_form": SuiteForm(),
        "run_form": RunForm(agent=release.agent),
    })


@login_required
@require_POST
@refuse_not_permitted
def release_sign(request, pk):
    release = _release_for(request.user, pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("releases:release-detail", pk=pk)
    try:
        signoff = services.signoff_record(actor=request.user, release=release, **form.cleaned_data)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, f"Recorded: {signoff}.")
    return redirect("releases:release-detail", pk=pk)


@login_required
@require_POST
@refuse_not_permitted
def suite_create(request, pk):
    release = _release_for(request.user, pk)
    form = SuiteForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("releases:release-detail", pk=pk)
    try:
        suite = services.evaluation_suite_create(actor=request.user, agent=release.agent,
                                                 **form.cleaned_data)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, f"Evaluation suite {suite.name} defined.")
    return redirect("releases:release-detail", pk=pk)


@login_required
@require_POST
@refuse_not_permitted
def run_create(request, pk):
    release = _release_for(request.user, pk)
    form = RunForm(request.POST, agent=release.agent)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("releases:release-detail", pk=pk)
    try:
        run = services.evaluation_run_record(
            actor=request.user, release=release, suite=form.cleaned_data["suite"],
            metrics=form.metrics(), source=RunSource.PAGE, notes=form.cleaned_data["notes"])
    except DomainError as error:
        _refused(request, error)
    else:
        outcome = "passed" if run.passed else "failed: " + " ".join(run.failures)
        (messages.success if run.passed else messages.warning)(request, f"Run {outcome}")
    return redirect("releases:release-detail", pk=pk)


def _not_reviewers(item: ChecklistItem) -> frozenset[int]:
    return selectors.release_involvement(item.release).people | {item.owner_id}


@login_required
@refuse_not_permitted
def item_detail(request, pk):
    item = _item_for(request.user, pk)
    form = ItemAssignForm(request.POST or None, not_reviewers=_not_reviewers(item),
                          initial={"owner": item.owner_id, "reviewer": item.reviewer_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.checklist_item_assign(actor=request.user, item=item, **form.cleaned_data)
        except DomainError as error:
            _refused(request, error)
        else:
            messages.success(request, "Owner and reviewer saved.")
        return redirect(item)
    return render(request, "releases/item_detail.html", {
        "item": item, "release": item.release, "assign_form": form,
        "evidence": list(item.evidence.select_related("uploaded_by", "evaluation_run__suite")),
        "evidence_form": EvidenceForm(item=item), "status_form": ItemStatusForm(),
        "may_manage": services.may_manage(request.user, item.release)})


@login_required
@require_POST
@refuse_not_permitted
def item_status(request, pk):
    item = _item_for(request.user, pk)
    form = ItemStatusForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(item)
    try:
        item = services.checklist_item_set_status(actor=request.user, item=item,
                                                  **form.cleaned_data)
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, f"Item {item.get_status_display().lower()}.")
    return redirect(item)


@login_required
@require_POST
@refuse_not_permitted
def evidence_add(request, pk):
    item = _item_for(request.user, pk)
    form = EvidenceForm(request.POST, request.FILES, item=item)
    if not form.is_valid():
        _form_errors(request, form)
        return render(request, "releases/item_detail.html", _item_context(item, form), status=400)
    data = form.cleaned_data
    with refusals_on(form) as outcome:
        services.evidence_add(actor=request.user, item=item, kind=data["kind"],
                              upload=data["file"], url=data["url"], run=data["evaluation_run"],
                              effective_date=data["effective_date"], note=data["note"],
                              replaces=data["replaces"])
    if not outcome.ok:
        return render(request, "releases/item_detail.html", _item_context(item, form), status=400)
    messages.success(request, "Evidence added.")
    return redirect(item)


def _item_context(item: ChecklistItem, evidence_form) -> dict:
    return {"item": item, "release": item.release,
            "assign_form": ItemAssignForm(not_reviewers=_not_reviewers(item),
                                          initial={"owner": item.owner_id,
                                                   "reviewer": item.reviewer_id}),
            "evidence": list(item.evidence.select_related("uploaded_by",
                                                          "evaluation_run__suite")),
            "evidence_form": evidence_form, "status_form": ItemStatusForm(), "may_manage": True}


@login_required
def evidence_download(request, pk):
    evidence = get_object_or_404(selectors.evidence_visible_to(request.user), pk=pk,
                                 kind=EvidenceKind.FILE)
    if not evidence.file:
        raise Http404("No file.")
    response = FileResponse(evidence.file.open("rb"), as_attachment=True,
                            filename=evidence.original_name or "evidence",
                            content_type=evidence.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
