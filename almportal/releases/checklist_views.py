"""Working a release's checklist from the release page: one action on many items at once,
posted with htmx (the checklist and the gate are drawn again in place) or as a plain form
(then back to the page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ..core.views import post_action, refuse_not_permitted
from . import services
from .forms import ChecklistBulkForm
from .views import _release_for, release_context

DONE = {"assign": "owner or reviewer named", "evidence": "evidence attached",
        "status": "status changed"}


@login_required
@require_POST
@refuse_not_permitted
def checklist_bulk(request, slug, number):
    release = _release_for(request.user, slug, number)
    form = ChecklistBulkForm(request.POST, request.FILES, release=release)
    if form.is_valid():
        action = form.cleaned_data["action"]
        post_action(request, form, lambda data: services.checklist_bulk(
            actor=request.user, release=release, items=list(data["items"]), action=action,
            **form.options()), lambda done: f"{len(done)} checklist items: {DONE[action]}.")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    if request.headers.get("HX-Request") != "true":
        return redirect(release.get_absolute_url() + "#checklist-head")
    context = release_context(request.user, release)
    return render(request, "releases/_checklist_live.html", context)
