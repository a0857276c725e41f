"""The worker's tasks of accounts, for Celery's autodiscovery: the e-mail outbox's task is
defined beside the outbox it sends (accounts.outbox), which also wakes it."""

from .outbox import outbox_send_task as outbox_send  # noqa: F401
