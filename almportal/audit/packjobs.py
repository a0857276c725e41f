"""Evidence packs built in the background: a request only queues a job; the worker builds the
pack (audit.pack, unchanged) into private storage under MEDIA_ROOT, reporting its progress; the
person downloads it through a permission check, and each download is recorded in the ledger
when it happens.

A job fixes the ledger head it covers when it is requested. Building is safe to redeliver or
run twice: a job is claimed (queued → being built) under a row lock, a ready job is never
rebuilt, and a file appears under its final name only once complete."""

import hashlib
import logging
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..accounts.models import User
from ..core.errors import Conflict, DomainError, NotPermitted
from ..inventory.models import Agent
from . import services, signing
from .exports import bounded
from .models import ExportKind, ExportRecord, LedgerEntry, PackJob, PackState
from .pack import build_agent_pack, build_portfolio_pack
from .rules import may_see_job
from .selectors import LedgerFilters, audit_agents, ledger_entries

log = logging.getLogger(__name__)

PROGRESS_EVERY = 25  # agents between two progress writes
PACK_KINDS = (ExportKind.AGENT_PACK, ExportKind.PORTFOLIO_PACK)


def packs_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "private" / "packs"


def jobs_visible_to(user: User):
    return PackJob.objects.filter(requested_by=user).select_related("agent")


# --- Requesting ------------------------------------------------------------------------------

def _filters(start: datetime | None, end: datetime | None) -> LedgerFilters:
    return LedgerFilters(start=start, end=end)


@transaction.atomic
def pack_job_start(*, actor: User, kind: str, agent: Agent | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> PackJob:
    """Queue a pack; the worker is asked to build it once the transaction commits."""
    services.require_export(actor)
    if kind not in PACK_KINDS:
        raise DomainError(f"Unknown pack kind {kind!r}.", field="kind")
    if kind == ExportKind.AGENT_PACK:
        if agent is None or not audit_agents(actor).filter(pk=agent.pk).exists():
            raise DomainError("Choose an agent you may audit.", field="agent")
        filters, entries = {"agent": agent.slug}, ledger_entries(LedgerFilters(agent=agent))
    else:
        agent, period = None, _filters(start, end)
        filters, entries = period.as_dict(), ledger_entries(period)
    last = entries.order_by("seq").last()
    job = PackJob.objects.create(kind=kind, agent=agent, filters=filters, requested_by=actor,
                                 last_seq=last.seq if last else None,
                                 last_hash=last.hash if last else "")
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    try:
        pack_build.apply_async(args=(job_id,), retry=False)
    except Exception:  # the job stays queued; the periodic sweep asks again
        log.warning("Could not queue pack job %s.", job_id, exc_info=True)


def pack_jobs_waiting(*, older_than_seconds: int = 60) -> list[int]:
    """Queued jobs no worker has claimed for a while (their task was lost)."""
    since = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(PackJob.objects.filter(state=PackState.QUEUED, created_at__lt=since)
                .values_list("pk", flat=True))


# --- Building --------------------------------------------------------------------------------

def _claim(job_id: int) -> PackJob | None:
    """Queued (or left running by a worker that died past the task time limit) → running."""
    with transaction.atomic():
        job = PackJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state in (PackState.READY, PackState.FAILED):
            return None
        stale = (job.state == PackState.RUNNING and job.started_at is not None and
                 (timezone.now() - job.started_at).total_seconds()
                 > settings.CELERY_TASK_TIME_LIMIT)
        if job.state == PackState.RUNNING and not stale:
            return None  # another worker is building it
        job.state, job.started_at, job.done = PackState.RUNNING, timezone.now(), 0
        job.save(update_fields=["state", "started_at", "done"])
        return job


def pack_job_build(job_id: int) -> PackJob | None:
    """Build the job's pack into private storage; None when there was nothing to do."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        pack = _build(job)
        _store(job, pack)
    except Exception as error:
        log.exception("Pack job %s failed.", job.pk)
        PackJob.objects.filter(pk=job.pk).update(state=PackState.FAILED,
                                                 error=repr(error)[:500],
                                                 finished_at=timezone.now())
        raise
    job.refresh_from_db()
    return job


def _export_for(job: PackJob) -> ExportRecord:
    """What the pack says about itself; the real record is written at each download."""
    return ExportRecord(kind=job.kind, agent=job.agent, filters=job.filters,
                        last_seq=job.last_seq, last_hash=job.last_hash,
                        created_by=job.requested_by)


def _period(job: PackJob) -> tuple[datetime | None, datetime | None]:
    start, end = job.filters.get("start"), job.filters.get("end")
    return (parse_datetime(start) if start else None, parse_datetime(end) if end else None)


def _build(job: PackJob):
    signing.sign_head()  # the pack carries a checkpoint of the ledger as it stands
    if job.kind == ExportKind.AGENT_PACK:
        assert job.agent is not None  # pack_job_start refuses an agent pack without its agent
        PackJob.objects.filter(pk=job.pk).update(total=1)
        history = bounded(ledger_entries(LedgerFilters(agent=job.agent)), job.last_seq)
        return build_agent_pack(agent=job.agent, history=history, export=_export_for(job))
    start, end = _period(job)
    agents = audit_agents(job.requested_by)
    PackJob.objects.filter(pk=job.pk).update(total=agents.count())

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            PackJob.objects.filter(pk=job.pk).update(done=done)

    history = bounded(ledger_entries(_filters(start, end)), job.last_seq)
    return build_portfolio_pack(agents=agents, history=history, start=start, end=end,
                                export=_export_for(job), progress=progress)


def _store(job: PackJob, pack) -> None:
    """Copy the built pack under its final name, hashing it on the way."""
    folder = packs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with pack, tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as part:
        for chunk in iter(lambda: pack.read(1 << 20), b""):
            digest.update(chunk)
            part.write(chunk)
            size += len(chunk)
    name = f"{job.pk}-{digest.hexdigest()[:16]}.zip"
    os.replace(part.name, folder / name)
    PackJob.objects.filter(pk=job.pk).update(
        state=PackState.READY, file_name=name, size=size, sha256=digest.hexdigest(),
        done=F("total"), finished_at=timezone.now(), error="")


# --- Downloading -----------------------------------------------------------------------------

def filename(job: PackJob) -> str:
    stamp = f"{job.created_at:%Y%m%dT%H%M%SZ}"
    what = job.agent.slug if job.agent is not None else "portfolio"
    return f"evidence-{what}-{stamp}.zip"


def pack_job_download(*, actor: User, job: PackJob):
    """Record the download in the ledger and open the file for sending."""
    if not may_see_job(actor, job):
        raise NotPermitted("This pack is not yours to download.")
    if job.state != PackState.READY:
        raise Conflict("The pack is not ready yet.")
    path = packs_dir() / job.file_name
    if not path.is_file():
        raise Conflict("The pack's file is gone; build it again.")
    last = LedgerEntry(seq=job.last_seq, hash=job.last_hash) if job.last_seq else None
    services.export_record(actor=actor, kind=job.kind, agent=job.agent,
                           filters={**job.filters, "pack_job": job.pk}, last=last)
    return path.open("rb")


# --- The worker's tasks (listed in audit.tasks for autodiscovery) ---------------------------

@shared_task(name="almportal.audit.tasks.pack_build", acks_late=True)
def pack_build(job_id: int) -> str:
    """Build one evidence pack; a redelivered or repeated run finds it claimed or ready."""
    job = pack_job_build(job_id)
    return job.state if job else "nothing to do"


@shared_task(name="almportal.audit.tasks.packs_sweep")
def packs_sweep() -> int:
    """Queue again the pack jobs whose first request to the worker was lost."""
    waiting = pack_jobs_waiting()
    for job_id in waiting:
        pack_build.delay(job_id)
    return len(waiting)
