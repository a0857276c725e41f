"""Pages of the standards area (imports, watched cards, drift findings) and the documents it
publishes for peers (agent cards, server.json, OASF records, the JWKS). Each page finds the
object for this user (or 404), parses a form, calls one service; the services decide."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..audit.signing import SigningKeyMissing
from ..core.errors import NON_FIELD, DomainError, NotPermitted
from ..core.views import post_action, refusals_on, refuse_not_permitted
from ..operations.selectors import agent_for
from . import documents, exports, rules, selectors, services
from .forms import CloseForm, ConfirmToolForm, ImportForm, WatchForm
from .models import FindingState

PAGE_SIZE = 25


def _on_form(error: DomainError, form: ImportForm) -> DomainError:
    """A document's field errors ("skills[0].name") above the form, each naming its field."""
    errors: dict[str, list[str]] = {}
    for key, messages_ in error.errors.items():
        target = key if key in form.fields else NON_FIELD
        prefix = "" if key in form.fields or key in (NON_FIELD, "document") else f"{key}: "
        errors.setdefault(target, []).extend(prefix + m for m in messages_)
    return DomainError(error.message, errors=errors)


def _import(request, form: ImportForm):
    try:
        return _run_import(request, form)
    except NotPermitted:
        raise
    except DomainError as error:
        raise _on_form(error, form) from error


def _run_import(request, form: ImportForm):
    fmt = form.cleaned_data["document_format"]
    if form.cleaned_data["url"]:
        return services.import_from_url(actor=request.user, url=form.cleaned_data["url"],
                                        document_format=fmt, intake=form.intake())
    upload = form.cleaned_data["file"]
    if upload.size > settings.STANDARDS_FETCH_MAX_BYTES:
        raise DomainError("The file is too large.", field="file")
    document = documents.load_json(upload.read())
    return services.import_document(actor=request.user, document=document,
                                    document_format=fmt or documents.guess_format(document),
                                    intake=form.intake())


@login_required
@refuse_not_permitted
def import_new(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            imported = _import(request, form)
        if outcome.ok:
            messages.success(request, f"{imported.agent} drafted from the document.")
            return redirect(imported)
    return render(request, "standards/import_new.html", {"form": form})


@login_required
def import_list(request):
    page = Paginator(selectors.imports_visible_to(request.user),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "standards/import_list.html", {"page": page})


@login_required
def import_detail(request, pk):
    imported = get_object_or_404(selectors.imports_visible_to(request.user), pk=pk)
    return render(request, "standards/import_detail.html", {
        "imported": imported, "may_confirm": rules.may_watch(request.user, imported.agent),
        "configuration": json.dumps(imported.interface, indent=2, sort_keys=True)})


@login_required
@require_POST
@refuse_not_permitted
def import_confirm(request, pk):
    imported = get_object_or_404(selectors.imports_visible_to(request.user), pk=pk)
    post_action(request, ConfirmToolForm(request.POST), lambda d: services.import_confirm_tool(
        actor=request.user, imported=imported, **d), "Tool flags confirmed.")
    return redirect(imported)


@login_required
@refuse_not_permitted
def agent_watches(request, slug):
    agent = agent_for(request.user, slug)
    form = WatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals_on(form) as outcome:
            watch = services.watch_add(actor=request.user, agent=agent, **form.cleaned_data)
        if outcome.ok:
            messages.success(request, "Live card registered; it is polled every 15 minutes.")
            return redirect(watch)
    return render(request, "standards/agent_watches.html", {
        "agent": agent, "form": form, "may_watch": rules.may_watch(request.user, agent),
        "watches": list(agent.watched_cards.select_related("created_by")),
        "findings": list(agent.drift_findings.select_related("watch"))})


@login_required
def watch_detail(request, pk):
    watch = get_object_or_404(selectors.watches_visible_to(request.user), pk=pk)
    return render(request, "standards/watch_detail.html", {
        "watch": watch, "may_watch": rules.may_watch(request.user, watch.agent),
        "findings": list(watch.findings.all())})


@login_required
@require_POST
@refuse_not_permitted
def watch_poll(request, pk):
    watch = get_object_or_404(selectors.watches_visible_to(request.user), pk=pk)
    finding = services.watch_poll_now(actor=request.user, watch=watch)
    messages.info(request, "Drift found: a finding is open." if finding else "Polled.")
    return redirect(finding or watch)


@login_required
@require_POST
@refuse_not_permitted
def watch_active(request, pk):
    watch = get_object_or_404(selectors.watches_visible_to(request.user), pk=pk)
    active = request.POST.get("active") == "1"
    with refusals_on(request=request):
        services.watch_set_active(actor=request.user, watch=watch, active=active)
    return redirect(watch)


@login_required
def finding_list(request):
    findings = selectors.findings_visible_to(request.user)
    state = request.GET.get("state", "")
    if state in FindingState.values:
        findings = findings.filter(state=state)
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "standards/finding_list.html", {
        "page": page, "state": state, "states": FindingState.choices})


@login_required
def finding_detail(request, pk):
    finding = get_object_or_404(selectors.findings_visible_to(request.user), pk=pk)
    return render(request, "standards/finding_detail.html", {
        "finding": finding, "may_close": rules.may_close(request.user, finding),
        "history": list(finding.history.select_related("history_user")),
        "form": CloseForm()})


@login_required
@require_POST
@refuse_not_permitted
def finding_close(request, pk):
    finding = get_object_or_404(selectors.findings_visible_to(request.user), pk=pk)
    post_action(request, CloseForm(request.POST), lambda d: services.finding_close(
        actor=request.user, finding=finding, **d), "Finding closed.")
    return redirect(finding)


# --- Published documents ---------------------------------------------------------------------

def _published(request, document: dict) -> HttpResponse:
    etag = exports.etag_of(document)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = JsonResponse(document, json_dumps_params={"sort_keys": True})
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _release(slug: str, number: int):
    release = selectors.published_release(slug, number)
    if release is None:
        raise Http404("No approved release by that number.")
    return release


@require_GET
def card(request, slug, number):
    try:
        return _published(request, exports.signed_card(_release(slug, number)))
    except SigningKeyMissing as exc:
        return JsonResponse({"detail": str(exc)}, status=503)


@require_GET
def server_json(request, slug, number, tool):
    release = _release(slug, number)
    if tool not in exports.mcp_servers(release):
        raise Http404("No MCP server by that name in this release.")
    return _published(request, exports.server_json(release, tool))


@require_GET
def oasf(request, slug, number):
    return _published(request, exports.oasf_record(_release(slug, number)))


@require_GET
def jwks(request):
    try:
        return _published(request, exports.jwks())
    except SigningKeyMissing as exc:
        return JsonResponse({"detail": str(exc)}, status=503)
