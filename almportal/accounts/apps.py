from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete


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
        post_save.connect(forget_cached_tokens, sender="accounts.ApiToken",
                          dispatch_uid="forget-token")
        post_save.connect(forget_cached_tokens, sender="accounts.User",
                          dispatch_uid="forget-user-tokens")
        _record_logins_without_history()
        _forget_cached_access()


def forget_cached_tokens(sender, instance, **kwargs) -> None:
    """Whatever path revokes a token or deactivates a user (services, admin), cached look-ups
    of the tokens concerned go with it."""
    from .models import ApiToken
    from .services import tokens_forget

    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a sign-in changes nothing a token depends on
    tokens = ApiToken.objects.filter(pk=instance.pk) if isinstance(instance, ApiToken) \
        else ApiToken.objects.filter(user=instance)
    tokens_forget(tokens)


def _forget_cached_access() -> None:
    """A user's cached roles and permissions (accounts.access) go when what they come from
    changes, whichever path changes it (services, SCIM, single sign-on, Django admin)."""
    from django.contrib.auth.models import Group

    from . import access
    from .models import User

    for signal in (post_save, post_delete):
        signal.connect(access.forget_user, sender=User, dispatch_uid=f"access-user-{signal}")
    for through in (User.groups.through, User.user_permissions.through):
        m2m_changed.connect(access.forget_members, sender=through,
                            dispatch_uid=f"access-links-{through.__name__}")
    m2m_changed.connect(access.forget_group_permissions, sender=Group.permissions.through,
                        dispatch_uid="access-group-permissions")
    post_save.connect(access.forget_group, sender=Group, dispatch_uid="access-group-saved")
    pre_delete.connect(access.forget_group, sender=Group, dispatch_uid="access-group-deleted")


def _record_logins_without_history() -> None:
    """A login stamps last_login (not in history) with an UPDATE of that column alone: Django's
    own handler saves the user, which would write an empty "changed" history row each time."""
    from django.contrib.auth import user_logged_in
    from django.contrib.auth.models import update_last_login

    from .services import stamp_last_login

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user_logged_in.connect(stamp_last_login, dispatch_uid="accounts-stamp-last-login")
