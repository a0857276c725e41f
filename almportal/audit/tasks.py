"""Periodic audit work (Celery beat): append any history the ledger missed, verify the chain,
and close retention periods that have ended. Each is idempotent."""

import logging

from celery import shared_task

from ..accounts.services import system_user
from . import services, signing
from .assurance import verify_all
from .packjobs import pack_build, packs_sweep  # noqa: F401 (defined beside the pack jobs)
from .selectors import latest_checkpoint

log = logging.getLogger(__name__)


@shared_task
def ledger_catch_up() -> int:
    return services.ledger_catch_up()


@shared_task
def ledger_verify() -> bool:
    """Check the chain appended since the last verified checkpoint (all of it the first time),
    every history row against its entry and every live row against its history."""
    result = verify_all(since=latest_checkpoint())
    services.verification_record(actor=system_user(), result=result)
    if not result.ok:
        log.error("Audit ledger verification failed at entry #%s: %s", result.first_bad_seq,
                  result.problem)
    return result.ok


@shared_task
def retention_expire() -> int:
    return services.retention_expire(actor=system_user())


@shared_task
def ledger_sign() -> int | None:
    """Sign the ledger head (a beat schedule; exports and packs sign it too)."""
    checkpoint = signing.sign_head()
    return checkpoint.seq if checkpoint else None
