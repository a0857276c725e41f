"""The sign-off form, the inbox, My work and the reminders ask releases.rules who may sign now:
with an ordered policy (security before compliance) only those who can sign now are listed."""

from datetime import timedelta

import pytest
from django.conf import settings

from almportal.accounts.models import Notification
from almportal.accounts.roles import Role
from almportal.inventory import services as inventory
from almportal.releases import selectors
from almportal.reviews import reminders

from ..conftest import client_for
from ..factories import make_user
from .helpers import high_release, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    """High tier: security reviewer first, then two compliance officers; the owner any time."""
    return high_release(owner, compliance, delegate)


@pytest.fixture
def people(owner, compliance, compliance2, security, delegate, release):
    involved_security = make_user(Role.SECURITY, username="sec-delegate")
    inventory.agent_add_delegate(actor=owner, agent=release.agent, user=involved_security)
    return {"owner": owner, "compliance": compliance, "compliance2": compliance2,
            "security": security, "delegate": delegate, "involved_security": involved_security}


def _inbox(user) -> set[int]:
    return {w.release.pk for w in selectors.work_waiting_for(user).signoffs}


def _reminded(release, capture) -> set[str]:
    Notification.objects.filter(kind="signoff-waiting").delete()
    now = release.submitted_at + timedelta(days=settings.SIGNOFF_REMINDER_DAYS + 1)
    with capture(execute=True):
        reminders.reminders_send(now=now, only=["signoff-waiting"])
    return set(Notification.objects.filter(kind="signoff-waiting")
               .values_list("user__username", flat=True))


def test_before_security_signs_only_security_and_the_owner_are_called(
        release, people, django_capture_on_commit_callbacks):
    assert _inbox(people["security"]) == {release.pk}
    assert _inbox(people["owner"]) == {release.pk}
    for name in ("compliance", "compliance2", "delegate", "involved_security"):
        assert _inbox(people[name]) == set(), name
    reminded = _reminded(release, django_capture_on_commit_callbacks)
    assert people["security"].username in reminded and people["owner"].username in reminded
    assert not reminded & {people[n].username for n in ("compliance", "compliance2",
                                                        "delegate", "involved_security")}


def test_after_security_signs_compliance_is_called_and_security_no_more(
        release, people, django_capture_on_commit_callbacks):
    sign(release, people["security"], Role.SECURITY)
    assert _inbox(people["compliance"]) == {release.pk}
    assert _inbox(people["compliance2"]) == {release.pk}
    assert _inbox(people["security"]) == set()
    assert _inbox(people["involved_security"]) == set()
    reminded = _reminded(release, django_capture_on_commit_callbacks)
    assert {people["compliance"].username, people["compliance2"].username,
            people["owner"].username} <= reminded
    assert not reminded & {people[n].username for n in ("security", "delegate",
                                                        "involved_security")}


def test_my_work_lists_the_same_releases(client, release, people):
    client_for(client, people["compliance"])
    assert release.get_absolute_url() not in client.get("/reviews/my-work/").content.decode()
    sign(release, people["security"], Role.SECURITY)
    assert release.get_absolute_url() in client.get("/reviews/my-work/").content.decode()


def test_the_form_offers_only_the_roles_one_may_sign_now(client, release, people):
    client_for(client, people["security"])
    form = client.get(release.get_absolute_url()).context["sign_form"]
    assert [value for value, _ in form.fields["role"].choices] == [Role.SECURITY]
    assert form.fields["role"].initial == Role.SECURITY


def test_the_form_says_why_one_may_sign_nothing(client, release, people):
    client_for(client, people["compliance"])
    page = client.get(release.get_absolute_url())
    assert page.context["signing"].roles == []
    text = page.content.decode()
    assert "Security reviewer sign-offs come first (0 of 1 so far)." in text
    assert f'action="{release.get_absolute_url()}sign/"' not in text
    client_for(client, people["involved_security"])
    text = client.get(release.get_absolute_url()).content.decode().replace("&#x27;", "'")
    assert "You are involved in this release (a delegate of the agent)" in text


def test_the_form_shows_the_order_and_who_signed(client, release, people):
    sign(release, people["security"], Role.SECURITY)
    client_for(client, people["compliance"])
    order = client.get(release.get_absolute_url()).context["signing_order"]
    assert [(s.role, s.count, s.quorum) for s in order] == [
        (Role.SECURITY, 1, 1), (Role.COMPLIANCE, 0, 2), (Role.BUSINESS_OWNER, 0, 1)]
    assert order[0].signers == [str(people["security"])]


def test_the_inbox_query_count_does_not_grow_with_releases(owner, compliance, delegate,
                                                           security,
                                                           django_assert_max_num_queries):
    high_release(owner, compliance, delegate)
    with django_assert_max_num_queries(30) as few:
        selectors.work_waiting_for(security)
    for _ in range(3):
        high_release(make_user(Role.BUSINESS_OWNER), compliance, make_user(Role.BUSINESS_OWNER))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(selectors.work_waiting_for(security).signoffs) == 4


def test_the_api_says_the_same_as_the_form(client, release, people):
    client_for(client, people["compliance"])
    answer = client.get(f"/api/v1/releases/{release.pk}/signing/").json()
    assert answer["roles"] == []
    assert answer["reasons"] == ["Security reviewer sign-offs come first (0 of 1 so far)."]
    assert [s["role"] for s in answer["order"]] == [Role.SECURITY, Role.COMPLIANCE,
                                                    Role.BUSINESS_OWNER]
    client_for(client, people["security"])
    assert client.get(f"/api/v1/releases/{release.pk}/signing/").json()["roles"] == [
        Role.SECURITY]


def test_another_user_gets_404_on_the_signing_answer(client, release, other_owner):
    client_for(client, other_owner)
    assert client.get(f"/api/v1/releases/{release.pk}/signing/").status_code == 404
