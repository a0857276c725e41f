from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "almportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from .roles import sync_role_permissions_after_migrate

        post_migrate.connect(sync_role_permissions_after_migrate, dispatch_uid="sync-roles")

        from django.contrib.auth.signals import user_logged_in

        from .middleware import session_begin

        user_logged_in.connect(session_begin, dispatch_uid="session-begin")
