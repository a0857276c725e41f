"""What a gateway's revision report leaves behind: its row (rewritten only when the revision
changes or the last report has aged) and, during a suspension, the time-to-halt once every
reporting gateway enforces the forbid-all."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..accounts.models import ApiToken
from ..core.lifecycle import lock
from ..inventory.models import Agent
from ..operations.models import Suspension
from ..operations.services.killswitch import suspension_record_halt
from . import rules, selectors
from .models import GatewayReport

# A busy gateway reports often; its row is rewritten at most this often while its revision
# stays the same.
REPORT_RESOLUTION = timedelta(seconds=10)
HALT_REASON = "Every reporting gateway enforces the forbid-all policy"


@transaction.atomic
def revision_report(*, token: ApiToken, agent_id: int, environment_id: int, gateway: str,
                    revision: str, at: datetime) -> None:
    """Record what one gateway enforces. Its rights were checked where the token was accepted
    and the agent looked up (the agents its account may act on as a gateway)."""
    rows = GatewayReport.objects.filter(token=token, agent_id=agent_id,
                                        environment_id=environment_id, gateway=gateway)
    written = (rows.filter(~Q(revision=revision)).update(
                   revision=revision, revision_since=at, last_reported_at=at)
               or rows.filter(last_reported_at__lte=at - REPORT_RESOLUTION).update(
                   last_reported_at=at))
    if not written and not rows.exists():
        try:
            with transaction.atomic():
                GatewayReport.objects.create(
                    token=token, agent_id=agent_id, environment_id=environment_id,
                    gateway=gateway, revision=revision, revision_since=at,
                    first_reported_at=at, last_reported_at=at)
                written = 1
        except IntegrityError:
            pass  # a simultaneous first report created it
    # Judged again at each written report, so a halt also completes when the last straggler
    # falls silent.
    if written and revision.startswith(rules.FORBID_ALL_PREFIX):
        halt_confirm(actor_token=token, agent_id=agent_id, revision=revision, at=at)


def halt_confirm(*, actor_token: ApiToken, agent_id: int, revision: str,
                 at: datetime) -> Suspension | None:
    """A gateway now enforces a forbid-all: if it is the open suspension's and every gateway
    reporting for the agent enforces it, the time-to-halt ends here."""
    pending = selectors.pending_halt(agent_id)
    if pending is None or revision != rules.forbid_all_revision(agent_id, pending.pk):
        return None
    lock(Suspension, pending.pk)  # the last reports of several gateways are judged in turn
    reported = selectors.reported_revisions(agent_id, selectors.reporting_since(pending))
    if not rules.halt_confirmed(reported, revision):
        return None
    return suspension_record_halt(actor=actor_token.user, agent=Agent(pk=agent_id), at=at,
                                  confirmed=True, reason=HALT_REASON)
