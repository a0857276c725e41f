"""Done when 3: each reminder kind fires once per period, and the email carries a link."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from almportal.accounts.models import Notification
from almportal.accounts.outbox import outbox_send
from almportal.accounts.services import user_deactivate
from almportal.inventory.models import Credential
from almportal.reviews import reminders
from almportal.reviews.models import AccessReview
from almportal.risk.choices import AssessmentState
from almportal.risk.models import Assessment, Questionnaire

from .conftest import later, open_reviews

pytestmark = pytest.mark.django_db


def scan(kind, now, capture):
    with capture(execute=True):
        return reminders.reminders_send(now=now, only=[kind]).sent[kind]


def assert_once_per_period(kind, now, capture, *, next_period, user, url_part):
    mail.outbox.clear()
    assert scan(kind, now, capture) >= 1
    sent = Notification.objects.filter(kind=kind, user=user)
    assert sent.count() == 1
    assert scan(kind, now, capture) == 0  # a second run in the same period sends nothing
    assert scan(kind, now + timedelta(minutes=5), capture) == 0
    assert sent.count() == 1
    outbox_send()
    emails = [m for m in mail.outbox if user.email in m.to]
    assert len(emails) == 1 and f"{settings.SITE_URL}{sent.get().url}" in emails[0].body
    assert url_part in sent.get().url
    if next_period is not None:
        assert scan(kind, next_period, capture) >= 1
        assert Notification.objects.filter(kind=kind, user=user).count() == 2


def test_review_due(live, owner, django_capture_on_commit_callbacks):
    when = later(400)
    [review] = open_reviews(now=when)
    assert_once_per_period("review-due", when, django_capture_on_commit_callbacks,
                           next_period=None, user=owner,
                           url_part=review.get_absolute_url())


def test_review_overdue(live, owner, django_capture_on_commit_callbacks):
    [review] = open_reviews(now=later(400))
    when = review.due_at + timedelta(hours=1)
    assert_once_per_period("review-overdue", when, django_capture_on_commit_callbacks,
                           next_period=when + timedelta(days=7), user=owner,
                           url_part=review.get_absolute_url())


def test_credentials_expiring_within_14_days(live, owner, security,
                                             django_capture_on_commit_callbacks):
    credential = live.credentials.get()
    when = credential.expires_at - timedelta(days=13)
    assert scan("credential-expiring", credential.expires_at - timedelta(days=15),
                django_capture_on_commit_callbacks) == 0
    assert_once_per_period("credential-expiring", when, django_capture_on_commit_callbacks,
                           next_period=None, user=owner, url_part=live.get_absolute_url())
    assert Notification.objects.filter(kind="credential-expiring", user=security).count() == 1


def test_expired_credentials_are_flagged_once(live, owner, security,
                                             django_capture_on_commit_callbacks):
    credential = live.credentials.get()
    when = credential.expires_at + timedelta(days=1)
    assert_once_per_period("credential-expired", when, django_capture_on_commit_callbacks,
                           next_period=None, user=security, url_part=live.get_absolute_url())
    # Renewed to a new date and expired again: a new period.
    Credential.objects.filter(pk=credential.pk).update(expires_at=when + timedelta(days=30))
    assert scan("credential-expired", when + timedelta(days=31),
                django_capture_on_commit_callbacks) >= 1


def test_risk_reassessment_due(live, owner, compliance, django_capture_on_commit_callbacks):
    Assessment.objects.create(
        agent=live, questionnaire=Questionnaire.objects.first(), state=AssessmentState.COMPLETED,
        tier="low", computed_tier="low", completed_at=timezone.now(), drafted_by=compliance,
        completed_by=compliance)
    assert scan("reassessment-due", later(30), django_capture_on_commit_callbacks) == 0
    assert_once_per_period("reassessment-due", later(360), django_capture_on_commit_callbacks,
                           next_period=None, user=owner, url_part=f"/risk/agents/{live.slug}/")


def test_dormant_agents(live, owner, compliance, django_capture_on_commit_callbacks):
    assert scan("agent-dormant", later(1), django_capture_on_commit_callbacks) == 0
    assert_once_per_period("agent-dormant", later(100), django_capture_on_commit_callbacks,
                           next_period=None, user=compliance,
                           url_part=live.get_absolute_url())
    assert "sunsetting" in Notification.objects.filter(kind="agent-dormant").first().body


def test_recent_activity_keeps_an_agent_from_dormancy(live):
    from almportal.inventory.services import agents_seen
    from almportal.reviews.selectors import dormant_agents

    assert [d.agent for d in dormant_agents(now=later(100))] == [live]
    agents_seen({live.pk: later(95)})
    assert dormant_agents(now=later(100)) == []


def test_ownerless_agents(live, owner, compliance, admin_user, django_capture_on_commit_callbacks):
    user_deactivate(actor=admin_user, user=owner, reason="Left the company")
    assert_once_per_period("agent-ownerless", timezone.now(), django_capture_on_commit_callbacks,
                           next_period=later(7), user=compliance, url_part="/reviews/ownerless/")


def test_a_failing_finder_does_not_stop_the_others(live, owner):
    def broken(now):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    reminders.register("broken", broken)
    try:
        open_reviews(now=later(400))
        result = reminders.reminders_send(now=later(400))
    finally:
        reminders.unregister("broken")
    assert result.failed == ["broken"] and result.sent["review-due"] == 1


def test_the_task_sends_reminders(live, owner):
    from almportal.reviews.tasks import send_reminders

    [review] = open_reviews(now=later(400))
    AccessReview.objects.filter(pk=review.pk).update(due_at=later(3))
    assert send_reminders.apply().get() >= 1
    assert send_reminders.apply().get() == 0


def test_signoffs_waiting_remind_those_who_could_sign(owner, compliance, security,
                                                      django_capture_on_commit_callbacks):
    from almportal.accounts.roles import Role
    from almportal.releases.choices import Decision
    from almportal.reviews import selectors

    from ..factories import make_user
    from ..releases.helpers import high_release, sign

    delegate = make_user(Role.BUSINESS_OWNER, username="dana")
    release = high_release(owner, compliance, delegate)
    sign(release, security, Role.SECURITY, Decision.APPROVE)
    now = release.submitted_at + timedelta(days=settings.SIGNOFF_REMINDER_DAYS + 1)
    assert scan("signoff-waiting", release.submitted_at + timedelta(hours=1),
                django_capture_on_commit_callbacks) == 0  # not waiting long enough yet
    assert_once_per_period("signoff-waiting", now, django_capture_on_commit_callbacks,
                           next_period=None, user=owner, url_part=release.get_absolute_url())
    reminded = set(Notification.objects.filter(kind="signoff-waiting")
                   .values_list("user__username", flat=True))
    # Security has signed; the submitter (a delegate) signs nothing; every compliance officer
    # (the one who assessed it and the one who triaged the intake) may still sign.
    officers = {u.username for u in selectors.people_with_role(Role.COMPLIANCE)}
    assert compliance.username in officers and security.username not in reminded
    assert reminded == {owner.username} | officers
