"""System health over the API, for monitoring systems: what the admin's home page shows of the
beat schedule, the worker's heartbeat and the e-mail outbox."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.permissions import signed_in
from ..accounts.roles import Role
from .api import SecondsField
from .health import system_health


class TaskHealthSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The entry's name in the beat schedule.")
    task = serializers.CharField(help_text="The Celery task it runs.")
    interval_seconds = SecondsField(source="interval",
                                    help_text="How often it runs; null when unknown.")
    interval_text = serializers.CharField(help_text="The same, as the page writes it.")
    last_run = serializers.DateTimeField(allow_null=True, help_text="Null: never seen running.")
    runs = serializers.IntegerField(help_text="Runs seen since the heartbeat row was made.")
    late = serializers.BooleanField(help_text="Last run older than twice its interval.")
    status = serializers.ChoiceField(["Late", "On time", "Not run yet"])


class OutboxHealthSerializer(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="E-mails not sent yet.")
    failing = serializers.IntegerField(help_text="Of those, the ones that failed at least once "
                                                 "and will be retried.")
    oldest = serializers.DateTimeField(allow_null=True,
                                       help_text="When the oldest waiting e-mail was written.")
    ok = serializers.BooleanField(help_text="None failing.")


class SystemHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=(
        "All is well: the worker and beat are alive, no periodic task is late and no e-mail is "
        "failing."))
    alive = serializers.BooleanField(help_text=(
        "The worker and beat are alive: the heartbeat task has run and is not late (the page's "
        "\"Worker and beat alive\"; false before its first run)."))
    late_tasks = serializers.SerializerMethodField(help_text="How many periodic tasks are late.")
    heartbeat = TaskHealthSerializer(allow_null=True, help_text=(
        "The heartbeat task's entry (also in `tasks`); null when the schedule has none."))
    tasks = TaskHealthSerializer(many=True, help_text="Every entry of the beat schedule, by name.")
    outbox = OutboxHealthSerializer()

    def get_late_tasks(self, health) -> int:
        return len(health.late)


class SystemHealthAPI(APIView):
    """The admin's system health, for polling: three queries, whatever the number of tasks
    or e-mails."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="System health: periodic tasks, worker heartbeat, e-mail outbox "
                           "(admins)", responses=SystemHealthSerializer)
    def get(self, request: Request) -> Response:
        if not signed_in(request.user).has_role(Role.ADMIN):
            raise PermissionDenied("Only admins see the system's health.")
        return Response(SystemHealthSerializer(system_health()).data)
