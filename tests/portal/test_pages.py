import pytest
from django.urls import reverse

from almportal.audit.models import LedgerEntry
from almportal.portal.portfolio import FAST_APPROVAL

from ..factories import make_agent
from ..operations.helpers import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(owner, compliance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return Team(owner, compliance).live()


def test_the_agent_page_shows_its_summary_and_ledger_timeline(client, compliance, live):
    agent, release = live
    client.force_login(compliance)
    html = client.get(agent.get_absolute_url()).content.decode()
    assert 'data-section="summary"' in html and 'data-section="timeline"' in html
    timeline = html[html.index('data-section="timeline"'):]
    latest = LedgerEntry.objects.filter(agent_id=agent.pk).order_by("-seq").first()
    assert f'data-entry="{latest.seq}"' in timeline
    assert f"{reverse('audit:history')}?agent={agent.slug}" in timeline
    assert "Compare releases" in html or agent.releases.count() < 2


def test_an_owner_sees_the_timeline_without_the_audit_link(client, owner, live):
    agent, _ = live
    client.force_login(owner)
    html = client.get(agent.get_absolute_url()).content.decode()
    assert 'data-section="timeline"' in html and "?agent=" not in html


def test_the_portfolio_flags_approvals_given_too_fast(client, compliance, live):
    client.force_login(compliance)
    html = client.get(reverse("portal:portfolio")).content.decode()
    for chart in ("stage", "tier", "releases", "severity", "cost", "signoffs", "queue"):
        assert f'data-chart="{chart}"' in html
    assert 'role="img"' in html and "<title" in html
    # The helper signs right after submitting: every approval is too fast.
    assert 'data-count="fast_approvals">' in html and str(FAST_APPROVAL) in html
    assert 'data-table="fast-approvals"' in html


def test_an_owner_sees_only_their_agents_in_the_portfolio(client, other_owner, live):
    make_agent(other_owner, name="Theirs")
    client.force_login(other_owner)
    response = client.get(reverse("portal:portfolio"))
    assert response.status_code == 200
    stage = response.content.decode()
    assert 'data-label="Live" data-value="0"' in stage
