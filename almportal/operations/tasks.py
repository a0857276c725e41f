from celery import shared_task

from . import services


@shared_task
def thresholds_scan() -> int:
    """Judge the agents with recent production samples or open alerts (clears alerts whose
    figures are back within bounds, and daily budgets at the turn of the day)."""
    return len(services.thresholds_evaluate(agent_ids=services.agents_to_watch()))


@shared_task
def thresholds_after_batch(agent_ids: list[int]) -> int:
    """Judge the agents of a committed batch (ingestion does not wait for it)."""
    return len(services.thresholds_evaluate(agent_ids=agent_ids))
