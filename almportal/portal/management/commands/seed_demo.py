"""`manage.py seed_demo`: demo users for every role and demo agents in every lifecycle stage,
taken there through the real flows (see almportal.portal.demo). Idempotent."""

from django.core.management.base import BaseCommand

from almportal.portal.demo import DEMO_AGENTS, DEMO_USERS, demo_password, seed

__all__ = ["DEMO_AGENTS", "DEMO_USERS", "Command", "demo_password"]


class Command(BaseCommand):
    help = "Load demo users and demo agents in every lifecycle stage. Idempotent."

    def handle(self, *args, **options) -> None:
        for line in seed():
            self.stdout.write(line)
