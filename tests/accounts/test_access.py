"""A user's roles and model permissions come from the cache between requests, and every way
of changing what they come from drops the cached answer at once."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.models import User
from almportal.accounts.notifications import notification_mark_read, notify, unread_count
from almportal.accounts.roles import GROUP_NAMES, Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

TRIAGE = "inventory.triage_agent"


@pytest.fixture(autouse=True)
def _cached(settings):
    settings.ACCESS_CACHE_SECONDS = 60


def fresh(user: User) -> User:
    """The user as the next request loads them (no per-object caches)."""
    return User.objects.get(pk=user.pk)


def compliance_group() -> Group:
    return Group.objects.get(name=GROUP_NAMES[Role.COMPLIANCE])


def test_a_second_request_reads_roles_and_permissions_from_the_cache(compliance):
    first = fresh(compliance)
    assert first.roles == {Role.COMPLIANCE} and first.has_perm(TRIAGE)
    user = fresh(compliance)
    with CaptureQueriesContext(connection) as captured:
        assert user.roles == {Role.COMPLIANCE}
        assert user.has_perm(TRIAGE)
    assert len(captured) == 0


def test_asking_a_persons_roles_reads_only_their_roles(compliance):
    with CaptureQueriesContext(connection) as captured:
        assert fresh(compliance).roles == {Role.COMPLIANCE}
    assert len(captured) == 2  # the user, their groups: not their permissions


def test_a_page_signed_in_queries_only_for_the_user_once_warm(client, compliance):
    client.force_login(compliance)
    client.get(reverse("accounts:notifications"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/no-such-page/").status_code == 404
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert "auth_group" not in tables and "auth_permission" not in tables
    assert "accounts_notification" not in tables


@pytest.mark.parametrize("join", ["from the user", "from the group"])
def test_joining_a_group_gives_its_role_and_permissions_at_once(owner, join):
    assert not fresh(owner).has_perm(TRIAGE)  # cached without the role
    if join == "from the user":
        owner.groups.add(compliance_group())
    else:
        compliance_group().user_set.add(owner)
    assert Role.COMPLIANCE in fresh(owner).roles
    assert fresh(owner).has_perm(TRIAGE)


@pytest.mark.parametrize("leave", ["remove from the user", "clear the user's",
                                   "remove from the group", "clear the group's"])
def test_leaving_a_group_takes_its_role_and_permissions_at_once(compliance, leave):
    assert fresh(compliance).has_perm(TRIAGE)
    group = compliance_group()
    {"remove from the user": lambda: compliance.groups.remove(group),
     "clear the user's": lambda: compliance.groups.clear(),
     "remove from the group": lambda: group.user_set.remove(compliance),
     "clear the group's": lambda: group.user_set.clear()}[leave]()
    assert fresh(compliance).roles == frozenset()
    assert not fresh(compliance).has_perm(TRIAGE)


@pytest.mark.parametrize("change", ["remove from the group", "clear from the permission",
                                    "remove from the permission"])
def test_a_group_losing_a_permission_takes_it_from_its_members_at_once(compliance, change):
    assert fresh(compliance).has_perm(TRIAGE)
    group = compliance_group()
    permission = Permission.objects.get(codename="triage_agent")
    {"remove from the group": lambda: group.permissions.remove(permission),
     "clear from the permission": lambda: permission.group_set.clear(),
     "remove from the permission": lambda: permission.group_set.remove(group)}[change]()
    assert not fresh(compliance).has_perm(TRIAGE)


def test_a_permission_given_to_the_user_applies_at_once(owner):
    assert not fresh(owner).has_perm(TRIAGE)
    owner.user_permissions.add(Permission.objects.get(codename="triage_agent"))
    assert fresh(owner).has_perm(TRIAGE)
    Permission.objects.get(codename="triage_agent").user_set.clear()
    assert not fresh(owner).has_perm(TRIAGE)


def test_deactivating_or_promoting_a_user_applies_at_once(compliance, owner):
    assert fresh(compliance).has_perm(TRIAGE) and not fresh(owner).has_perm(TRIAGE)
    compliance.is_active = False
    compliance.save()
    assert fresh(compliance).roles == frozenset() and not fresh(compliance).has_perm(TRIAGE)
    owner.is_superuser = True
    owner.save()
    assert Role.ADMIN in fresh(owner).roles and fresh(owner).has_perm(TRIAGE)


def test_renaming_a_group_changes_its_members_roles_at_once(compliance):
    assert fresh(compliance).roles == {Role.COMPLIANCE}
    group = compliance_group()
    group.name = "Renamed"
    group.save()
    assert fresh(compliance).roles == frozenset()


def test_the_unread_count_is_cached_and_follows_new_and_read_notifications(owner):
    assert unread_count(owner) == 0
    with CaptureQueriesContext(connection) as captured:
        assert unread_count(owner) == 0
    assert len(captured) == 0
    [first] = notify(users=[owner], kind="test", subject="first")
    notify(users=[owner, make_user()], kind="test", subject="second")
    assert unread_count(owner) == 2
    notification_mark_read(actor=owner, notification=first)
    assert unread_count(owner) == 1
