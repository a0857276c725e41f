"""Release pages: the one page of a release (its manifest, changes since the release before,
gate, checklist, evaluations, sign-offs and actions) under its agent, the drafting forms, the
checklist item pages, the list, the inbox and evidence downloads. Each view finds the object
for this user (or 404), parses a form and calls one service; the services decide what is
allowed."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..accounts.models import User
from ..core.keyset import keyset_page
from ..core.views import post_action, refusals_on, refuse_not_permitted
from ..inventory import services as inventory
from ..inventory.models import Agent
from ..inventory.selectors import agent_components, agents_visible_to
from . import rules, selectors, services
from .choices import ReleaseState, RunSource
from .diff import release_diff
from .evidence_files import evidence_file_for, evidence_file_response
from .filters import DEFAULT_SORT, RELEASE_SORTS, UnderApprovalFilter
from .forms import (
    ChecklistBulkForm,
    EvidenceForm,
    ItemAssignForm,
    ItemStatusForm,
    ReleaseCompareForm,
    ReleaseForm,
    RunForm,
    SignOffForm,
    SuiteForm,
)
from .gate_summary import gate_summary
from .models import ChecklistItem, Release

PAGE_SIZE = 25


def _agent_for(user: User, slug: str) -> Agent:
    return get_object_or_404(agents_visible_to(user), slug=slug)


def _release_for(user: User, slug: str, number: int) -> Release:
    return get_object_or_404(selectors.releases_visible_to(user), agent__slug=slug,
                             number=number)


def _item_for(user: User, slug: str, number: int, pk: int) -> ChecklistItem:
    return get_object_or_404(selectors.checklist_items_visible_to(user), pk=pk,
                             release__agent__slug=slug, release__number=number)


@login_required
def inbox(request):
    return render(request, "releases/inbox.html",
                  {"work": selectors.work_waiting_for(request.user)})


@login_required
def release_list(request):
    release_filter = UnderApprovalFilter(request.GET,
                                         queryset=selectors.releases_in_review(request.user))
    page = keyset_page(release_filter.qs, request.GET, RELEASE_SORTS, size=PAGE_SIZE,
                       default=DEFAULT_SORT)
    return render(request, "releases/release_list.html", {"filter": release_filter,
                                                          "page": page})


# --- The release page ----------------------------------------------------------------------

def _readiness(user: User, release: Release, *, may_manage: bool, may_record_runs: bool
               ) -> dict:
    suites = selectors.agent_suites(release.agent)
    facts = selectors.signing_facts(release)
    signing = rules.signing_options(user, facts)
    gate, checklist = services.release_gate(release), selectors.release_checklist(release)
    return {
        "gate": gate, "checklist": checklist,
        "gate_next": gate_summary(user, gate, checklist, signing=signing,
                                  may_manage=may_manage, may_record_runs=may_record_runs
                                  ).next_step,
        "runs": [(run, rules.run_counts(run, facts.involvement))  # each with whether it counts
                 for run in selectors.release_runs(release)],
        "suites": suites, "trends": [(s, selectors.evaluation_trend(s)) for s in suites],
        "signoffs": selectors.release_signoffs(release),
        "signing": signing, "signing_order": selectors.signing_order(facts),
        "sign_form": SignOffForm(roles=signing.roles),
        "suite_form": SuiteForm(policy=services.policy_for(release)),
        "run_forms": [RunForm(suite=suite, policy=services.policy_for(release),
                              prefix=f"run{suite.pk}") for suite in suites],
        **_bulk(user, release, checklist, may_manage),
    }


def release_context(user: User, release: Release) -> dict:
    """Everything the release page draws (also its live checklist after a bulk action)."""
    may_manage = services.may_manage(user, release)
    may_record_runs = services.may_record_runs(user, release)
    previous = selectors.release_before(release)
    return {
        "release": release, "agent": release.agent,
        "manifest": json.dumps(release.manifest, indent=2, sort_keys=True),
        "diff": release_diff(previous, release) if previous else None,
        "may_edit": may_manage and not release.is_frozen, "may_manage": may_manage,
        "may_record_runs": may_record_runs,
        **_readiness(user, release, may_manage=may_manage, may_record_runs=may_record_runs),
    }


def _bulk(user: User, release: Release, checklist: list[ChecklistItem], may_manage: bool
          ) -> dict:
    """The bulk form of the checklist, for who may act on its items now."""
    reviews = any(item.reviewer_id == user.pk for item in checklist)
    if release.state != ReleaseState.SUBMITTED or not (may_manage or reviews):
        return {"bulk_form": None}
    reviewers = selectors.reviewer_choices(release, checklist) if may_manage else []
    return {"bulk_form": ChecklistBulkForm(release=release, reviewers=reviewers)}


@login_required
def release_detail(request, slug, number):
    release = _release_for(request.user, slug, number)
    return render(request, "releases/release_detail.html",
                  release_context(request.user, release))


# --- Drafting ------------------------------------------------------------------------------

def _release_form(request, agent: Agent, release: Release | None = None) -> ReleaseForm:
    """The draft's own content when editing; when creating, the content of the release it
    starts from (selectors.release_to_start_from), so a change is one edit."""
    base = None if release is not None else selectors.release_to_start_from(agent)
    source = release or base
    chosen, initial = {}, {}
    if source is not None:
        chosen = {kind: {e["id"] for e in entries}
                  for kind, entries in source.manifest["components"].items()}
        initial = {"configuration": json.dumps(source.configuration, indent=2)}
    if release is not None:
        initial.update(label=release.label, notes=release.notes)
    return ReleaseForm(request.POST or None, components=agent_components(agent), chosen=chosen,
                       initial=initial, base=base)


@login_required
@refuse_not_permitted
def release_create(request, slug):
    agent = _agent_for(request.user, slug)
    inventory.require_agent_change(request.user, agent)  # the form only for who may use it
    form = _release_form(request, agent)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            release = services.release_create(
                actor=request.user, agent=agent, label=form.cleaned_data["label"],
                notes=form.cleaned_data["notes"],
                configuration=form.cleaned_data["configuration"], components=form.components())
        if outcome.ok:
            messages.success(request, f"Release {release.display_version} drafted.")
            return redirect(release)
    return render(request, "releases/release_form.html", {"agent": agent, "form": form})


@login_required
@refuse_not_permitted
def release_edit(request, slug, number):
    release = _release_for(request.user, slug, number)
    inventory.require_agent_change(request.user, release.agent)
    if release.is_frozen:
        messages.error(request, f"Release {release.display_version} is "
                                f"{release.get_state_display().lower()} and frozen: "
                                "put changes into a new release.")
        return redirect(release)
    form = _release_form(request, release.agent, release)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            services.release_update(
                actor=request.user, release=release, label=form.cleaned_data["label"],
                notes=form.cleaned_data["notes"],
                configuration=form.cleaned_data["configuration"], components=form.components())
        if outcome.ok:
            messages.success(request, "Draft release saved.")
            return redirect(release)
    return render(request, "releases/release_form.html",
                  {"agent": release.agent, "release": release, "form": form})


@login_required
@require_POST
@refuse_not_permitted
def release_submit(request, slug, number):
    release = _release_for(request.user, slug, number)
    with refusals_on(request=request) as outcome:
        services.release_submit(actor=request.user, release=release)
    if outcome.ok:
        messages.success(request, f"Release {release.display_version} submitted for sign-off.")
    return redirect(release)


@login_required
def release_compare(request, slug):
    agent = _agent_for(request.user, slug)
    releases = list(agent.releases.order_by("-number"))
    form = ReleaseCompareForm(request.GET or None, releases=releases)
    result = None
    if form.is_valid():
        result = release_diff(form.cleaned_data["old"], form.cleaned_data["new"])
    return render(request, "releases/release_compare.html",
                  {"agent": agent, "form": form, "diff": result})


# --- Sign-offs and evaluations -------------------------------------------------------------

@login_required
@require_POST
@refuse_not_permitted
def release_sign(request, slug, number):
    release = _release_for(request.user, slug, number)
    post_action(request, SignOffForm(request.POST),
                lambda data: services.signoff_record(actor=request.user, release=release, **data),
                lambda signoff: f"Recorded: {signoff}.")
    return redirect(release)


@login_required
@require_POST
@refuse_not_permitted
def suite_create(request, slug, number):
    release = _release_for(request.user, slug, number)
    post_action(request, SuiteForm(request.POST),
                lambda data: services.evaluation_suite_create(actor=request.user,
                                                              agent=release.agent, **data),
                lambda suite: f"Evaluation suite {suite.name} defined.")
    return redirect(release)


@login_required
@require_POST
@refuse_not_permitted
def run_create(request, slug, number):
    release = _release_for(request.user, slug, number)
    chosen = request.POST.get("suite", "")
    suite = get_object_or_404(release.agent.evaluation_suites,
                              pk=int(chosen) if chosen.isdigit() else 0)
    form = RunForm(request.POST, suite=suite, policy=services.policy_for(release),
                   prefix=f"run{suite.pk}")
    if form.is_valid():
        with refusals_on(form) as outcome:
            run = services.evaluation_run_record(
                actor=request.user, release=release, suite=suite, metrics=form.metrics(),
                source=RunSource.PAGE, notes=form.cleaned_data["notes"])
        if outcome.ok:
            (messages.success if run.passed else messages.error)(
                request, run_outcome(run, services.release_gate(release)))
            return redirect(release)
    context = release_context(request.user, release)
    context["run_forms"] = [form if f.suite == suite else f for f in context["run_forms"]]
    return render(request, "releases/release_detail.html", context, status=400)


def run_outcome(run, gate) -> str:
    """What a recorded run means for the gate's evaluation condition."""
    said = "Run passed" if run.passed else "Run failed: " + " ".join(run.failures)
    condition = gate.condition("evaluations")
    if not rules.run_counts(run, selectors.release_involvement(run.release)):
        said += (" — it does not count towards the gate: it was recorded by someone involved "
                 "in the release; CI or someone independent must record it")
    if condition.passed:
        return f"{said} — the gate's evaluation condition is now met."
    still = ", ".join(condition.waiting) or "see the gate"
    return f"{said} — the gate's evaluation condition is still missing: {still}."


# --- Checklist items and evidence ----------------------------------------------------------

def _item_context(user: User, item: ChecklistItem, evidence_form=None, assign_form=None) -> dict:
    return {"item": item, "release": item.release, "agent": item.release.agent,
            "next_item": selectors.next_item(item),
            "assign_form": assign_form or ItemAssignForm(
                reviewers=selectors.reviewer_choices(item.release, [item]),
                initial={"owner": item.owner_id, "reviewer": item.reviewer_id}),
            "evidence": list(item.evidence.select_related("uploaded_by",
                                                          "evaluation_run__suite")),
            "evidence_form": evidence_form or EvidenceForm(item=item),
            "status_form": ItemStatusForm(), "may_manage": services.may_manage(user, item.release)}


@login_required
@refuse_not_permitted
def item_detail(request, slug, number, pk):
    item = _item_for(request.user, slug, number, pk)
    if request.method == "POST":
        post_action(request, ItemAssignForm(request.POST),
                    lambda data: services.checklist_item_assign(actor=request.user, item=item,
                                                                **data),
                    "Owner and reviewer saved.")
        return redirect(item)
    return render(request, "releases/item_detail.html", _item_context(request.user, item))


@login_required
@require_POST
@refuse_not_permitted
def item_status(request, slug, number, pk):
    item = _item_for(request.user, slug, number, pk)
    post_action(request, ItemStatusForm(request.POST),
                lambda data: services.checklist_item_set_status(actor=request.user, item=item,
                                                                **data),
                lambda item: f"Item {item.get_status_display().lower()}.")
    return redirect(item)


@login_required
@require_POST
@refuse_not_permitted
def evidence_add(request, slug, number, pk):
    item = _item_for(request.user, slug, number, pk)
    form = EvidenceForm(request.POST, request.FILES, item=item)
    if form.is_valid():
        data = form.cleaned_data
        with refusals_on(form) as outcome:
            services.evidence_add(actor=request.user, item=item, kind=data["kind"],
                                  upload=data["file"], url=data["url"],
                                  run=data["evaluation_run"],
                                  effective_date=data["effective_date"], note=data["note"],
                                  replaces=data["replaces"])
        if outcome.ok:
            messages.success(request, "Evidence added.")
            return redirect(item)
    return render(request, "releases/item_detail.html",
                  _item_context(request.user, item, evidence_form=form), status=400)


@login_required
def evidence_download(request, slug, number, pk):
    evidence = evidence_file_for(request.user, pk)
    release = evidence.item.release
    if (release.agent.slug, release.number) != (slug, number):
        raise Http404("No file.")
    return evidence_file_response(evidence)


# --- Former addresses ----------------------------------------------------------------------

def _moved(target) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(target)


@require_GET
@login_required
def moved_release(request, pk):
    return _moved(get_object_or_404(selectors.releases_visible_to(request.user), pk=pk)
                  .get_absolute_url())


@require_GET
@login_required
def moved_item(request, pk):
    return _moved(get_object_or_404(selectors.checklist_items_visible_to(request.user), pk=pk)
                  .get_absolute_url())


@require_GET
@login_required
def moved_evidence(request, pk):
    return _moved(evidence_file_for(request.user, pk).get_download_url())
