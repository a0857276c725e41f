from django.contrib import admin

from ..operations.admin import ReadOnlyAdmin
from .models import GatewayReport


@admin.register(GatewayReport)
class GatewayReportAdmin(ReadOnlyAdmin):
    list_display = ("gateway", "token", "agent", "environment", "revision", "last_reported_at")
    list_select_related = ("token", "agent", "environment")
