"""What a gateway's runtime-status poll leaves behind: the last poll per token, and the
time-to-halt of a suspension."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from ...accounts.models import ApiToken
from ...inventory.models import Agent
from ..choices import RuntimeState
from ..models import Environment, RuntimePoll
from .killswitch import suspension_record_halt

# A busy gateway polls often; its row is rewritten at most this often (or when what it was
# served changes).
POLL_RESOLUTION = timedelta(seconds=1)


def runtime_poll_record(*, token: ApiToken, agent: Agent, environment: Environment, state: str,
                        etag: str, at: datetime) -> None:
    polls = RuntimePoll.objects.filter(token=token, agent=agent, environment=environment)
    fresh = Q(last_polled_at__lte=at - POLL_RESOLUTION) | ~Q(last_state=state) | ~Q(
        last_etag=etag)
    if not polls.filter(fresh).update(last_polled_at=at, last_state=state, last_etag=etag) \
            and not polls.exists():
        try:
            with transaction.atomic():
                RuntimePoll.objects.create(token=token, agent=agent, environment=environment,
                                           first_polled_at=at, last_polled_at=at,
                                           last_state=state, last_etag=etag)
        except IntegrityError:
            pass  # a simultaneous first poll created it
    if state == RuntimeState.SUSPENDED:
        suspension_record_halt(actor=token.user, agent=agent, at=at)
