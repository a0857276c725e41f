from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "almportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from .roles import sync_role_permissions_after_migrate

        post_migrate.connect(sync_role_permissions_after_migrate, dispatch_uid="sync-roles")
        _record_logins_without_history()


def _record_logins_without_history() -> None:
    """A login stamps last_login (not in history) with an UPDATE of that column alone: Django's
    own handler saves the user, which would write an empty "changed" history row each time."""
    from django.contrib.auth import user_logged_in
    from django.contrib.auth.models import update_last_login

    from .services import stamp_last_login

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user_logged_in.connect(stamp_last_login, dispatch_uid="accounts-stamp-last-login")
