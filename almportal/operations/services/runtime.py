"""What a gateway's runtime-status poll leaves behind: the last poll per token, and the
time-to-halt of a suspension."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q

from ...accounts.models import ApiToken
from ...core.caching import forget
from ...inventory import services as inventory
from ...inventory.models import Agent
from ..choices import RuntimeState
from ..models import Environment, RuntimePoll
from ..selectors import (
    PRODUCTION,
    RUNTIME_CACHE_SECONDS,
    environment_key,
    runtime_key,
    runtime_status,
)
from .killswitch import suspension_record_halt

# A busy gateway polls often; its row is rewritten at most this often (or when what it was
# served changes).
POLL_RESOLUTION = timedelta(seconds=10)


def runtime_poll_due(*, token: ApiToken, agent_id: int, environment_id: int, etag: str) -> bool:
    """Whether this poll is the first of its interval for what it was served: only then is it
    written (a suspension's first poll always is, since its ETag is new)."""
    key = f"runtime-poll:{token.pk}:{agent_id}:{environment_id}:{etag}"
    return cache.add(key, True, int(POLL_RESOLUTION.total_seconds()))


def runtime_poll_record(*, token: ApiToken, agent_id: int, environment_id: int, state: str,
                        etag: str, at: datetime) -> None:
    polls = RuntimePoll.objects.filter(token=token, agent_id=agent_id,
                                       environment_id=environment_id)
    fresh = Q(last_polled_at__lte=at - POLL_RESOLUTION) | ~Q(last_state=state) | ~Q(
        last_etag=etag)
    recorded = polls.filter(fresh).update(last_polled_at=at, last_state=state, last_etag=etag)
    if not recorded and not polls.exists():
        try:
            with transaction.atomic():
                RuntimePoll.objects.create(token=token, agent_id=agent_id,
                                           environment_id=environment_id, first_polled_at=at,
                                           last_polled_at=at, last_state=state, last_etag=etag)
        except IntegrityError:
            pass  # a simultaneous first poll created it
        recorded = True
    if recorded:
        inventory.agents_seen({agent_id: at})
    if state == RuntimeState.SUSPENDED:
        suspension_record_halt(actor=token.user, agent=Agent(pk=agent_id), at=at)


def runtime_refresh(agent_id: int) -> None:
    """Build the agent's runtime status in every environment into the cache."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return
    for environment in Environment.objects.all():
        cache.set(runtime_key(agent.pk, environment.pk), runtime_status(agent, environment),
                  RUNTIME_CACHE_SECONDS)


def runtime_forget(agent_id: int) -> None:
    """Something the agent's runtime status depends on changed (a deployment, a route's weight,
    the agent's stage: deploy, promote, rollback, suspend, resume, retire): the cached answers
    go now, and are built again once the change commits."""
    environments = Environment.objects.values_list("pk", flat=True)
    forget([runtime_key(agent_id, pk) for pk in environments],
           then=lambda: runtime_refresh(agent_id))


def runtime_forget_environment(environment: Environment) -> None:
    """An environment changed (its slug, which is production): every answer naming it goes."""
    agent_ids = Agent.objects.values_list("pk", flat=True).iterator()
    forget([environment_key(environment.slug), environment_key(PRODUCTION),
            *(runtime_key(agent_id, environment.pk) for agent_id in agent_ids)])
