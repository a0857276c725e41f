"""Pages for auditors: the ledger and its verification, the history browser, the agent as it
stood at a moment, exports, evidence packs and retention. Reading needs the ledger's view
permission; exports and packs need audit.export_ledger and are recorded before they are sent."""

import zipfile
from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..core.views import post_action, refusals_on, refuse_not_permitted
from . import packjobs, services, signing
from .assurance import verify_all
from .display import history_rows
from .exports import bounded, csv_stream, jsonl_stream
from .forms import (
    AsOfForm,
    HistoryFilterForm,
    PeriodForm,
    ReleaseHoldForm,
    RetentionHoldForm,
    VerifyFileForm,
)
from .ledger import entry_content, hash_of
from .models import ExportKind, LedgerEntry, PackJob, RetentionHold
from .rules import can_export, can_manage_retention, can_view_audit
from .selectors import (
    agent_as_of,
    agent_as_of_findings,
    agent_holds,
    audit_agents,
    entry_changes,
    ledger_entries,
    ledger_head,
    ledger_page,
    recent_exports,
    recent_verifications,
)
from .verify import ExportCheck, PackCheck, verify_export, verify_pack

PAGE_SIZE = 25


@cache
def entry_url_prefix() -> str:
    """An entry's address is this and its number: no reverse() per entry of a page."""
    return reverse("audit:entry", args=[0]).removesuffix("0/")
STREAMS = {"csv": (csv_stream, "text/csv; charset=utf-8", ExportKind.CSV),
           "jsonl": (jsonl_stream, "application/x-ndjson", ExportKind.JSONL)}


def _require_audit(request) -> None:
    if not can_view_audit(request.user):
        raise PermissionDenied("Only auditors, compliance officers and admins read the ledger.")


def _require_export(request) -> None:
    _require_audit(request)
    if not can_export(request.user):
        raise PermissionDenied("Your role may not export audit history.")


def _agent_for(request, slug: str):
    _require_audit(request)
    return get_object_or_404(audit_agents(request.user), slug=slug)


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%dT%H%M%SZ")


@login_required
def home(request):
    _require_audit(request)
    return render(request, "audit/home.html", {
        "head": ledger_head(), "runs": recent_verifications(5), "exports": recent_exports(10),
        "can_export": can_export(request.user), "period_form": PeriodForm()})


@login_required
def history(request):
    _require_audit(request)
    form = HistoryFilterForm(request.GET or None, user=request.user)
    page = ledger_page(ledger_entries(form.filters()), before=request.GET.get("before"),
                       after=request.GET.get("after"), size=PAGE_SIZE)
    rows = history_rows([(entry, entry_changes(entry)) for entry in page.entries],
                        entry_url_prefix())
    query = request.GET.copy()
    for cursor in ("before", "after"):
        query.pop(cursor, None)
    return render(request, "audit/history.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "can_export": can_export(request.user)})


@login_required
def entry(request, seq: int):
    _require_audit(request)
    item = get_object_or_404(LedgerEntry, seq=seq)
    [row] = history_rows([(item, entry_changes(item))])
    return render(request, "audit/entry.html", {
        "entry": item, "row": row, "diffs": row.diffs, "content": entry_content(item),
        "hash_ok": hash_of(item) == item.hash})


@login_required
def export(request, fmt: str):
    _require_export(request)
    stream, content_type, kind = STREAMS[fmt]
    form = HistoryFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    entries = ledger_entries(filters)
    last = entries.last()
    record = services.export_record(actor=request.user, kind=kind, filters=filters.as_dict(),
                                    agent=filters.agent, last=last)
    response = StreamingHttpResponse(
        stream(bounded(entries, record.last_seq), export_id=record.pk), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-ledger-{_stamp()}.{fmt}"'
    return response


@login_required
def verify(request):
    _require_audit(request)
    result = None
    if request.method == "POST":
        result = verify_all()
        services.verification_record(actor=request.user, result=result)
    return render(request, "audit/verify.html", {
        "result": result, "head": ledger_head(), "runs": recent_verifications()})


@login_required
def verify_file(request):
    _require_audit(request)
    form = VerifyFileForm(request.POST or None, request.FILES or None)
    result: PackCheck | ExportCheck | None = None
    kind: str | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if zipfile.is_zipfile(upload):
            kind, result = "pack", verify_pack(upload)
        else:
            upload.seek(0)
            kind, result = "export", verify_export(upload)
    return render(request, "audit/verify_file.html", {"form": form, "result": result,
                                                      "kind": kind})


@login_required
def agent_as_of_view(request, slug: str):
    agent = _agent_for(request, slug)
    form = AsOfForm(request.GET or None)
    snapshot = findings = None
    if form.is_valid():
        snapshot = agent_as_of(agent, form.cleaned_data["at"])
        findings = agent_as_of_findings(agent, form.cleaned_data["at"])
    return render(request, "audit/as_of.html", {"agent": agent, "form": form,
                                                "snapshot": snapshot, "findings": findings,
                                                "can_export": can_export(request.user)})


@login_required
@require_POST
def agent_pack(request, slug: str):
    """Queue the agent's evidence pack; its page shows the progress and the download."""
    agent = _agent_for(request, slug)
    _require_export(request)
    job = packjobs.pack_job_start(actor=request.user, kind=ExportKind.AGENT_PACK, agent=agent)
    return redirect(job)


@login_required
@require_POST
def portfolio_pack(request):
    _require_export(request)
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid period.")
        return redirect("audit:home")
    start, end = form.period()
    job = packjobs.pack_job_start(actor=request.user, kind=ExportKind.PORTFOLIO_PACK,
                                  start=start, end=end)
    return redirect(job)


def _job_for(request, pk: int) -> PackJob:
    _require_export(request)
    return get_object_or_404(packjobs.jobs_visible_to(request.user), pk=pk)


@login_required
def pack_job(request, pk: int):
    job = _job_for(request, pk)
    template = "audit/_pack_progress.html" if request.htmx else "audit/pack_job.html"
    return render(request, template, {"job": job})


@login_required
@refuse_not_permitted
def pack_job_download(request, pk: int):
    job = _job_for(request, pk)
    with refusals_on(request=request) as outcome:
        handle = packjobs.pack_job_download(actor=request.user, job=job)
    if not outcome.ok:
        return redirect(job)
    return FileResponse(handle, as_attachment=True, content_type="application/zip",
                        filename=packjobs.filename(job))


@login_required
def retention(request, slug: str):
    agent = _agent_for(request, slug)
    manage = can_manage_retention(request.user)
    form = RetentionHoldForm(request.POST or None)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("Your role may not place retention holds.")
        if form.is_valid():
            with refusals_on(form) as outcome:
                services.retention_hold_place(actor=request.user, agent=agent, **form.cleaned_data)
            if outcome.ok:
                messages.success(request, "The hold is recorded.")
                return redirect("audit:retention", slug=agent.slug)
    return render(request, "audit/retention.html", {
        "agent": agent, "holds": agent_holds(agent), "form": form if manage else None,
        "release_form": ReleaseHoldForm() if manage else None})


@login_required
@require_POST
@refuse_not_permitted
def retention_release(request, slug: str, pk: int):
    agent = _agent_for(request, slug)
    hold = get_object_or_404(RetentionHold, pk=pk, agent=agent)
    if not can_manage_retention(request.user):
        raise PermissionDenied("Your role may not release retention holds.")
    post_action(request, ReleaseHoldForm(request.POST), lambda d: services.retention_hold_release(
        actor=request.user, hold=hold, reason=d["reason"]), "The hold is released.")
    return redirect("audit:retention", slug=agent.slug)


def signing_key(request):
    """The public key that verifies the ledger's signed checkpoints. Public, like any public
    key: an auditor fetches it once, keeps it, and checks files offline with it."""
    if not signing.is_configured():
        raise Http404("No audit signing key is configured.")
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = f'inline; filename="alm-audit-{signing.key_id()}.pem"'
    return response
