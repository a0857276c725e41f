"""The portfolio's figures, on the page and over the API: what each counts, over whose agents,
in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from almportal.accounts.roles import Role
from almportal.inventory.choices import Stage
from almportal.releases.choices import Decision, ReleaseState
from almportal.releases.models import Release, SignOff

from ..factories import make_agent, make_release

pytestmark = pytest.mark.django_db

API = "/api/v1/portfolio/"
DAY = timedelta(days=1)


def waiting_release(owner, waited: timedelta) -> Release:
    """A release of a new agent of the owner's (a new release voids the agent's earlier open
    one), submitted `waited` ago."""
    release = make_release(make_agent(owner, Stage.IN_DEVELOPMENT))
    submitted = timezone.now() - waited
    Release.objects.filter(pk=release.pk).update(state=ReleaseState.SUBMITTED,
                                                 submitted_at=submitted,
                                                 created_at=submitted - timedelta(hours=1))
    release.refresh_from_db()
    return release


def approve(release: Release, signer, after: timedelta) -> None:
    signoff = SignOff.objects.create(release=release, role=Role.COMPLIANCE, user=signer,
                                     decision=Decision.APPROVE,
                                     manifest_hash=release.manifest_hash)
    SignOff.objects.filter(pk=signoff.pk).update(created_at=release.submitted_at + after)


@pytest.fixture
def estate(owner, other_owner, compliance):
    """The owner's three agents each have a release waiting: for 2 hours, 2 days and 10 days;
    another owner's waits 5 days. Compliance approved two of the owner's: one 30 seconds after
    submission, one a day after."""
    fresh, older, oldest = (waiting_release(owner, waited)
                            for waited in (timedelta(hours=2), 2 * DAY, 10 * DAY))
    waiting_release(other_owner, 5 * DAY)
    approve(older, compliance, timedelta(seconds=30))
    approve(oldest, compliance, DAY)
    return fresh, older, oldest


def figures(client, user) -> dict:
    client.force_login(user)
    response = client.get(API)
    assert response.status_code == 200
    return response.json()


def bars(chart: dict) -> dict:
    return {bar["label"]: bar["value"] for bar in chart["bars"]}


def test_an_owner_sees_the_oversight_load_of_their_own_agents(client, owner, estate):
    data = figures(client, owner)
    oversight = data["oversight"]
    assert data["scope"] == "own"
    assert oversight["waiting"] == 3
    assert list(bars(oversight["queue"]).values()) == [1, 1, 0, 1]
    assert oversight["median_wait_seconds"] == pytest.approx(2 * DAY.total_seconds(), abs=60)
    # The median of 30 seconds and a day: half a day and 15 seconds.
    assert oversight["median_approval_seconds"] == pytest.approx(43215, abs=1)
    assert oversight["fast_approvals_total"] == 1
    fast = oversight["fast_approvals"][0]
    assert (fast["release"], fast["took_seconds"]) == (estate[1].pk, 30)
    assert sum(bars(oversight["signoffs"]).values()) == 2


def test_compliance_sees_the_whole_fleet(client, compliance, estate):
    data = figures(client, compliance)
    oversight = data["oversight"]
    assert data["scope"] == "fleet"
    assert oversight["waiting"] == 4
    assert list(bars(oversight["queue"]).values()) == [1, 1, 1, 1]
    assert oversight["median_wait_seconds"] == pytest.approx(3.5 * DAY.total_seconds(), abs=60)


def test_the_charts_count_agents_and_releases_the_user_sees(client, owner, compliance, estate):
    mine = {chart["key"]: chart for chart in figures(client, owner)["charts"]}
    fleet = {chart["key"]: chart for chart in figures(client, compliance)["charts"]}
    assert list(mine) == ["stage", "tier", "releases", "severity"]
    assert (sum(bars(mine["stage"]).values()), sum(bars(fleet["stage"]).values())) == (3, 4)
    assert (sum(bars(mine["tier"]).values()), sum(bars(fleet["tier"]).values())) == (3, 4)
    assert sum(bars(mine["releases"]).values()) == 3
    assert sum(bars(fleet["releases"]).values()) == 4
    assert len(mine["releases"]["bars"]) == 12


def test_the_page_shows_the_figures_the_api_gives(client, owner, estate):
    data = figures(client, owner)
    html = client.get(reverse("portal:portfolio")).content.decode()
    assert f'data-count="waiting">{data["oversight"]["waiting"]}<' in html
    assert f'data-count="fast_approvals">{data["oversight"]["fast_approvals_total"]}<' in html
    assert "The agents you own or are a delegate on." in html


def test_the_portfolio_needs_a_signed_in_user(client):
    assert client.get(API).status_code in (401, 403)
    assert client.get(reverse("portal:portfolio")).status_code == 302


def test_the_api_runs_the_same_queries_for_more_releases(client, owner, estate):
    figures(client, owner)
    with CaptureQueriesContext(connection) as few:
        client.get(API)
    for waited in (3 * DAY, 4 * DAY, 20 * DAY):
        waiting_release(owner, waited)
    with CaptureQueriesContext(connection) as more:
        assert client.get(API).json()["oversight"]["waiting"] == 6
    assert len(more) == len(few)

