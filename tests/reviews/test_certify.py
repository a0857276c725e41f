"""Done when 2: certify and revoke end to end; a revoke opens a security task; an overdue review
escalates once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from almportal.accounts.models import Notification
from almportal.accounts.outbox import outbox_send
from almportal.accounts.services import system_user
from almportal.core.errors import Conflict, DomainError, NotPermitted
from almportal.inventory.services import agent_add_delegate
from almportal.reviews import services
from almportal.reviews.models import (
    AccessReview,
    Decision,
    GrantKind,
    ReviewItem,
    ReviewState,
    RevocationTask,
    TaskState,
)

from ..factories import make_user
from .conftest import later, open_reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(live):
    [review] = open_reviews(now=later(400))
    return review


def items(review):
    return {i.kind: i for i in review.items.all()}


def decide(review, actor, **decisions):
    entries = [{"item": items(review)[kind].pk, "decision": d, "comment": f"{kind} {d}"}
               for kind, d in decisions.items()]
    return services.access_review_certify(actor=actor, review=review, entries=entries)


def test_the_owner_certifies_keep_and_revoke_and_the_review_completes(review, owner, security,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decide(review, owner, credential=Decision.REVOKE, tool=Decision.KEEP,
               data_source=Decision.KEEP)
    review.refresh_from_db()
    assert review.state == ReviewState.COMPLETED and review.completed_by == owner
    credential_item = items(review)[GrantKind.CREDENTIAL]
    assert credential_item.decided_by == owner and credential_item.comment == "credential revoke"
    credential = credential_item.credential
    credential.refresh_from_db()
    assert credential.revoked_at is not None and credential.revoked_by == owner
    task = RevocationTask.objects.get()
    assert task.item == credential_item and task.state == TaskState.OPEN
    note = Notification.objects.get(user=security, kind="revocation-task")
    assert note.url == task.get_absolute_url()
    outbox_send()
    assert any(task.get_absolute_url() in m.body for m in mail.outbox)
    assert review.history.count() == 2  # opened, completed


def test_a_delegate_certifies_too(review, owner, other_owner):
    agent_add_delegate(actor=owner, agent=review.agent, user=other_owner)
    decide(review, other_owner, tool=Decision.KEEP)
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN  # two grants still undecided


def test_a_tool_revoke_records_the_decision_and_opens_a_task(review, owner):
    decide(review, owner, tool=Decision.REVOKE)
    task = RevocationTask.objects.get()
    assert task.item.kind == GrantKind.TOOL


@pytest.mark.parametrize("persona", ["other_owner", "auditor", "security", "compliance"])
def test_only_the_owner_a_delegate_or_an_admin_certifies(review, persona, request):
    actor = request.getfixturevalue(persona)
    with pytest.raises(NotPermitted):
        decide(review, actor, tool=Decision.KEEP)
    assert not ReviewItem.objects.exclude(decision=Decision.PENDING).exists()


@pytest.mark.parametrize("entry", [
    {"decision": "keep", "comment": ""},
    {"decision": "maybe", "comment": "why not"},
    {"item": 999999, "decision": "keep", "comment": "x"},
])
def test_bad_input_writes_nothing(review, owner, entry):
    tool = items(review)[GrantKind.TOOL]
    good = {"item": items(review)[GrantKind.DATA_SOURCE].pk, "decision": "keep", "comment": "ok"}
    with pytest.raises(DomainError):
        services.access_review_certify(actor=owner, review=review,
                                       entries=[good, {"item": tool.pk, **entry}])
    assert not ReviewItem.objects.exclude(decision=Decision.PENDING).exists()


def test_a_decision_is_final(review, owner):
    decide(review, owner, tool=Decision.KEEP)
    with pytest.raises(Conflict):
        decide(review, owner, tool=Decision.REVOKE)


def test_security_completes_the_revocation_task(review, owner, security, auditor):
    decide(review, owner, credential=Decision.REVOKE)
    task = RevocationTask.objects.get()
    for actor in (owner, auditor):
        with pytest.raises(NotPermitted):
            services.revocation_task_complete(actor=actor, task=task, note="done")
    with pytest.raises(DomainError):
        services.revocation_task_complete(actor=security, task=task, note=" ")
    services.revocation_task_complete(actor=security, task=task, note="Disabled in Okta")
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.completed_by == security
    with pytest.raises(Conflict):
        services.revocation_task_complete(actor=security, task=task, note="again")


def test_an_overdue_review_escalates_once(review, owner, compliance,
                                          django_capture_on_commit_callbacks):
    actor = system_user()
    assert services.access_reviews_escalate_overdue(actor=actor, now=review.due_at
                                                    - timedelta(minutes=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        first = services.access_reviews_escalate_overdue(actor=actor, now=review.due_at)
        second = services.access_reviews_escalate_overdue(actor=actor,
                                                          now=review.due_at + timedelta(days=3))
    assert [r.pk for r in first] == [review.pk] and second == []
    review.refresh_from_db()
    assert review.state == ReviewState.ESCALATED and review.escalated_at == review.due_at
    assert Notification.objects.filter(user=compliance, kind="review-escalated").count() == 1
    outbox_send()
    assert len([m for m in mail.outbox if compliance.email in m.to]) == 1
    # Still certifiable: the owner finishes it late.
    decide(review, owner, credential=Decision.KEEP, tool=Decision.KEEP,
           data_source=Decision.KEEP)
    review.refresh_from_db()
    assert review.state == ReviewState.COMPLETED


def test_the_agent_shows_the_review_overdue(review, client, owner):
    from almportal.reviews.selectors import agent_review_status

    status = agent_review_status(review.agent, now=review.due_at + timedelta(hours=1))
    assert status.open == review and status.overdue
    client.force_login(owner)
    page = client.get(reverse("reviews:review-list"))
    assert b"Open" in page.content
    AccessReview.objects.filter(pk=review.pk).update(due_at=later(-1))
    assert b"Overdue" in client.get(review.get_absolute_url()).content


def test_a_review_without_grants_is_confirmed_empty(owner):
    from .conftest import live_agent

    live_agent(owner, grants=False)
    [review] = open_reviews(now=later(400))
    with pytest.raises(NotPermitted):
        services.access_review_complete_empty(actor=make_user(), review=review)
    services.access_review_complete_empty(actor=owner, review=review)
    review.refresh_from_db()
    assert review.state == ReviewState.COMPLETED
