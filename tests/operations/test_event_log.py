"""The event log kept at least six months: a usage period per agent and day, the stop and
override events the services record, and a retention job that never deletes a row younger
than 183 days."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from almportal.audit import services as audit
from almportal.operations import rules, services, tasks
from almportal.operations.choices import EventLogKind
from almportal.operations.models import EventLog, IngestBatch, MetricSample, RuntimePoll

from ..conftest import client_for
from ..factories import make_agent
from .helpers import env, token_client

pytestmark = pytest.mark.django_db


def at_day(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def sample(agent, release, batch, when, metric, value):
    return MetricSample.objects.create(agent=agent, release=release, batch=batch,
                                       environment=env("production"), timestamp=when,
                                       metric=metric, value=value)


@pytest.fixture
def live(team):
    return team.live()


def test_a_day_of_samples_and_polls_becomes_one_usage_period(live, owner):
    agent, release = live
    day = timezone.localdate() - timedelta(days=1)
    batch = IngestBatch.objects.create(user=owner, batch_id="b", item_count=5, stored_count=5,
                                       refused_count=0)
    for hour, metric, value in [(9, "requests", 120), (9, "errors", 3), (15, "requests", 80),
                                (15, "tool_call_failures", 2), (16, "errors", 1)]:
        sample(agent, release, batch, at_day(day, hour), metric, value)
    sample(agent, release, batch, at_day(day + timedelta(days=1), 1), "requests", 999)
    token_client(owner, "runtime")  # a token to poll with
    RuntimePoll.objects.create(token=owner.api_tokens.get(), agent=agent,
                               environment=env("production"), first_polled_at=at_day(day, 7),
                               last_polled_at=at_day(day, 20), last_state="active",
                               last_etag="x")
    assert services.usage_summarise(day=day) == 1
    row = EventLog.objects.get(kind=EventLogKind.USAGE)
    assert (row.calls, row.errors, row.tool_call_failures, row.polls) == (200, 4, 2, 1)
    assert row.at == at_day(day, 7) and row.until == at_day(day, 20) and row.day == day
    assert row.history.get().history_user.username  # recorded by the system user
    assert services.usage_summarise(day=day) == 0  # append-only: a day is summed once
    assert EventLog.objects.count() == 1 + EventLog.objects.exclude(kind="usage").count()


def test_stops_and_overrides_are_logged_by_the_services_that_do_them(live, owner,
                                                                     compliance):
    agent, _ = live
    services.agent_suspend(actor=owner, agent=agent, reason="Drill", drill=True)
    services.agent_resume(actor=owner, agent=agent, reason="Drill over")
    services.agent_suspend(actor=compliance, agent=agent, reason="Leaking data")
    kinds = list(EventLog.objects.filter(agent=agent).order_by("pk")
                 .values_list("kind", "actor__username"))
    assert kinds == [(EventLogKind.DRILL, owner.username), (EventLogKind.RESUMED, owner.username),
                     (EventLogKind.SUSPENDED, compliance.username)]


def test_ending_a_deployment_is_logged_as_a_stop(live, owner):
    agent, _ = live
    deployment = agent.deployments.get()
    services.deployment_end(actor=owner, deployment=deployment, reason="Taken down")
    stop = EventLog.objects.get(kind=EventLogKind.STOPPED)
    assert "Taken down" in stop.summary and stop.actor == owner


def old_row(agent, days):
    row = EventLog.objects.create(agent=agent, kind=EventLogKind.OVERRIDE, summary=f"{days}",
                                  at=timezone.now() - timedelta(days=days))
    return row.pk


@pytest.mark.parametrize("configured", [1, 30, 183])
def test_the_retention_job_keeps_every_row_younger_than_six_months(owner, settings,
                                                                   configured):
    settings.EVENT_LOG_RETENTION_DAYS = configured  # a setting below the floor changes nothing
    agent = make_agent(owner)
    kept = [old_row(agent, days) for days in (0, 10, 100, 182)]
    gone = [old_row(agent, days) for days in (184, 400)]
    tasks.samples_expire()  # the nightly retention job
    assert set(EventLog.objects.values_list("pk", flat=True)) == set(kept)
    assert not EventLog.objects.filter(pk__in=gone).exists()


def test_a_longer_setting_keeps_longer_and_a_hold_keeps_everything(owner, compliance,
                                                                   settings):
    settings.EVENT_LOG_RETENTION_DAYS = 500
    agent, held = make_agent(owner), make_agent(owner, name="Held agent")
    kept = old_row(agent, 400)
    gone = old_row(agent, 600)
    audit.retention_hold_place(actor=compliance, agent=held, reason="Litigation",
                               legal_hold=True)
    frozen = old_row(held, 900)
    tasks.samples_expire()
    assert set(EventLog.objects.values_list("pk", flat=True)) == {kept, frozen}
    assert gone not in EventLog.objects.values_list("pk", flat=True)


def test_the_rule_has_a_floor():
    now = timezone.now()
    assert rules.event_log_kept_days(1) == 183
    assert not rules.event_log_may_expire(now - timedelta(days=182), now, 1)
    assert rules.event_log_may_expire(now - timedelta(days=184), now, 1)


def test_the_api_reads_the_event_log_by_visibility(live, owner, other_owner, auditor):
    agent, _ = live
    services.agent_suspend(actor=owner, agent=agent, reason="Stop")
    url = "/api/v1/event-log/"
    for user, count in ((owner, 1), (auditor, 1), (other_owner, 0)):
        client = APIClient()
        client.force_authenticate(user)
        assert len(client.get(url, {"agent": agent.slug}).json()["results"]) == count
    client = APIClient()
    client.force_authenticate(other_owner)
    row = EventLog.objects.get()
    assert client.get(f"{url}{row.pk}/").status_code == 404
    client.force_authenticate(owner)
    assert client.post(url, {}, format="json").status_code == 405
    assert client.get(url, {"kind": "nonsense"}).status_code == 400


def test_the_page_shows_the_log_to_who_may_see_the_agent(live, client, owner, other_owner,
                                                         auditor):
    agent, _ = live
    services.agent_suspend(actor=owner, agent=agent, reason="Stop it now")
    url = reverse("operations:event-log", args=[agent.slug])
    assert "Stop it now" in client_for(client, auditor).get(url).content.decode()
    assert client_for(client, other_owner).get(url).status_code == 404


def test_the_page_query_count_does_not_grow_with_rows(live, client, owner,
                                                      django_assert_max_num_queries):
    agent, _ = live
    url = reverse("operations:event-log", args=[agent.slug])
    client_for(client, owner)
    old_row(agent, 1)
    with django_assert_max_num_queries(100) as one:
        client.get(url)
    for days in range(2, 30):
        old_row(agent, days)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)
