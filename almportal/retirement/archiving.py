"""The agent's archives: its evidence pack stored under MEDIA_ROOT with its SHA-256.

The archiving task of a plan stores one while the agent is sunsetting. The *final* archive is
built by the worker once the retirement has committed, so it holds the agent in its retired
stage and the retirement sign-offs: retiring only queues it (nobody waits in the request).
Building is safe to redeliver or run twice: it runs under the plan's row lock, and a plan that
has its final archive builds nothing more (a unique constraint backs this)."""

import hashlib
import logging
from datetime import date
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..accounts.models import User
from ..audit import services as audit
from ..audit import signing
from ..audit.exports import bounded
from ..audit.models import ExportKind, ExportRecord, LedgerEntry
from ..audit.pack import build_agent_pack
from ..audit.selectors import LedgerFilters, ledger_entries
from ..core.lifecycle import record
from ..inventory.models import Agent
from .choices import PlanState
from .models import Archive, DecommissionPlan

log = logging.getLogger(__name__)

ARCHIVE_DIR = "retirement/archives"


def agent_history(agent: Agent) -> QuerySet[LedgerEntry]:
    return ledger_entries(LedgerFilters(agent=agent))


def _store(source, relative: str) -> tuple[str, int]:
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as out:
        for block in iter(lambda: source.read(1 << 16), b""):
            digest.update(block)
            out.write(block)
            size += len(block)
    return digest.hexdigest(), size


def archive_store(*, actor: User, plan: DecommissionPlan, export: ExportRecord, reason: str,
                  retain_until: date, final: bool = False, legal_hold: bool = False) -> Archive:
    """Build the agent's pack up to the export's ledger entry, store it, and record the
    Archive row in history."""
    agent = plan.agent
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    name = f"archive-{agent.slug}-{'final-' if final else ''}{stamp}.zip"
    relative = f"{ARCHIVE_DIR}/{agent.slug}/{name}"
    with build_agent_pack(agent=agent, history=bounded(agent_history(agent), export.last_seq),
                          export=export) as pack:
        sha256, size = _store(pack, relative)
    archive = Archive(agent=agent, plan=plan, path=relative, file_name=name, sha256=sha256,
                      size=size, retain_until=retain_until, legal_hold=legal_hold, final=final,
                      created_by=actor)
    try:
        record(archive, actor=actor, reason=f"{reason} ({sha256[:12]}…)")
    except Exception:
        (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)
        raise
    return archive


# --- The final archive, after the retirement commits --------------------------------------

def final_archive_queue(plan: DecommissionPlan, *, reason: str) -> None:
    """Ask the worker for the final archive once the retirement commits (never if it rolls
    back)."""
    transaction.on_commit(lambda: _enqueue(plan.pk, reason))


def _enqueue(plan_id: int, reason: str) -> None:
    try:
        final_archive_build_task.apply_async(args=(plan_id, reason), retry=False)
    except Exception:  # the retired plan stays without one; final_archives_sweep asks again
        log.warning("Could not queue the final archive of plan %s.", plan_id, exc_info=True)


def _final_export(plan: DecommissionPlan) -> ExportRecord:
    """What the pack says about itself: the ledger head it covers (each download is recorded
    as an export of its own)."""
    last = agent_history(plan.agent).last()
    return ExportRecord(kind=ExportKind.AGENT_PACK, agent=plan.agent,
                        filters={"agent": plan.agent.slug, "archive": f"plan {plan.pk}",
                                 "final": True},
                        last_seq=last.seq if last else None, last_hash=last.hash if last else "",
                        created_by=plan.retired_by)


def _kept(plan: DecommissionPlan) -> tuple[date, bool]:
    """Retention of the final archive: at least the plan's, and what its earlier archives
    were extended to or held for."""
    earlier = list(plan.archives.all())
    until = max([plan.retention_until, *[a.retain_until for a in earlier]])
    return until, any(a.legal_hold for a in earlier)


def final_archive_build(plan_id: int, reason: str = "") -> Archive | None:
    """The retired agent's final archive; None when there is nothing to do (the plan is not
    retired, or its final archive exists)."""
    # The pack is checked against the ledger: take in any history a lost append left behind.
    audit.ledger_catch_up()
    with transaction.atomic():
        plan = (DecommissionPlan.objects.select_for_update(of=("self",))
                .select_related("agent", "retired_by")
                .filter(pk=plan_id).first())
        if plan is None or plan.state != PlanState.RETIRED or plan.retired_by is None or \
                plan.archives.filter(final=True).exists():
            return None
        signing.sign_head()  # the pack carries a checkpoint of the ledger as it stands
        retain_until, legal_hold = _kept(plan)
        return archive_store(
            actor=plan.retired_by, plan=plan, export=_final_export(plan),
            retain_until=retain_until, legal_hold=legal_hold, final=True,
            reason=f"Final archive after retirement: {reason or plan.reason}")


def final_archives_missing() -> list[int]:
    """Retired plans still without their final archive (their request to the worker was
    lost, or they were retired before final archives existed)."""
    return list(DecommissionPlan.objects.filter(state=PlanState.RETIRED)
                .exclude(archives__final=True).values_list("pk", flat=True))


# --- The worker's tasks (listed in retirement.tasks for autodiscovery) ----------------------

@shared_task(name="almportal.retirement.tasks.final_archive_build", acks_late=True)
def final_archive_build_task(plan_id: int, reason: str = "") -> str:
    """Build one retired agent's final archive; a redelivered run finds it built."""
    archive = final_archive_build(plan_id, reason)
    return archive.file_name if archive else "nothing to do"


@shared_task(name="almportal.retirement.tasks.final_archives_sweep")
def final_archives_sweep() -> int:
    """Queue again the final archives whose first request to the worker was lost."""
    missing = final_archives_missing()
    for plan_id in missing:
        final_archive_build_task.delay(plan_id)
    return len(missing)
