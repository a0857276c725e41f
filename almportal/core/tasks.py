from celery import shared_task


@shared_task
def beat_heartbeat() -> None:
    """Scheduled by beat, run by a worker: its recorded run proves both are alive."""
