from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last time a periodic task (or the worker itself) was seen running."""

    name = models.CharField(max_length=200, unique=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
