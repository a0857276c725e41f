from celery.signals import task_postrun
from django.db.models import F
from django.utils import timezone


@task_postrun.connect
def record_task_run(sender=None, task=None, **kwargs) -> None:
    from .models import Heartbeat

    name = getattr(task, "name", None) or str(sender)
    updated = Heartbeat.objects.filter(name=name).update(
        last_seen_at=timezone.now(), runs=F("runs") + 1
    )
    if not updated:
        Heartbeat.objects.get_or_create(
            name=name, defaults={"last_seen_at": timezone.now(), "runs": 1}
        )
