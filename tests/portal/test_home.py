import re
from datetime import timedelta

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from almportal.accounts.models import ApiToken, User
from almportal.inventory import services
from almportal.inventory.choices import GrantMode, Stage
from almportal.inventory.models import Agent, Credential
from almportal.releases.choices import ReleaseState
from almportal.releases.models import Release

from ..factories import make_agent, make_release

pytestmark = pytest.mark.django_db

HOME = reverse_lazy("portal:home")


def count(html: str, name: str) -> int:
    match = re.search(rf'data-(?:count|stage)="{name}">(\d+)<', html)
    assert match, name
    return int(match.group(1))


def section(html: str, name: str) -> str:
    start = html.index(f'data-section="{name}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def estate(owner, other_owner, django_capture_on_commit_callbacks):
    """Agents in several stages, a release and some grants (and their ledger entries)."""
    with django_capture_on_commit_callbacks(execute=True):
        return _estate(owner, other_owner)


def _estate(owner, other_owner):
    make_agent(owner, name="Draft one")
    make_agent(owner, Stage.DECLINED, name="Declined one")
    make_agent(owner, Stage.PROPOSED, name="Proposed one")
    make_agent(other_owner, Stage.PROPOSED, name="Proposed two")
    live = make_agent(other_owner, Stage.IN_DEVELOPMENT, name="Building")
    make_release(live)
    for name, mode, expires in (("soon", GrantMode.JUST_IN_TIME, timedelta(days=3)),
                                ("standing", GrantMode.STANDING, None),
                                ("later", GrantMode.JUST_IN_TIME, timedelta(days=90))):
        services.component_add_version(
            actor=other_owner, agent=live, kind="credentials",
            data={"name": name, "identity": f"svc-{name}", "scopes": ["read"], "mode": mode,
                  "granted_by": "IT",
                  "expires_at": timezone.now() + expires if expires else None})
    return live


def test_the_owner_sees_their_agents_and_what_waits(client, owner, estate):
    client.force_login(owner)
    html = client.get(HOME).content.decode()
    mine = section(html, "owner")
    assert "Draft one" in mine and "Declined one" in mine and "Proposed one" in mine
    assert "Building" not in mine
    for stage in (Stage.DRAFT, Stage.DECLINED, Stage.PROPOSED):
        assert count(mine, stage) == Agent.objects.filter(business_owner=owner,
                                                          stage=stage).count()
    waiting = mine[mine.index("Intakes waiting for you"):mine.index("All my agents")]
    assert "Draft one" in waiting and "Declined one" in waiting and "Proposed one" not in waiting
    assert 'data-section="compliance"' not in html


def test_compliance_sees_intakes_to_triage(client, compliance, estate):
    client.force_login(compliance)
    html = section(client.get(HOME).content.decode(), "compliance")
    assert count(html, "intakes") == Agent.objects.filter(stage=Stage.PROPOSED).count() == 2
    assert "Proposed one" in html and "Proposed two" in html
    assert count(html, Stage.IN_DEVELOPMENT) == 1


def test_security_sees_grants_to_review(client, security, estate):
    client.force_login(security)
    html = section(client.get(HOME).content.decode(), "security")
    assert count(html, "live") == Credential.objects.filter(revoked_at__isnull=True).count()
    assert count(html, "expiring") == 1 and "svc-soon" in html
    assert count(html, "standing") == Credential.objects.filter(mode=GrantMode.STANDING).count()


def test_the_auditor_sees_recent_changes_and_counts(client, auditor, estate):
    client.force_login(auditor)
    html = section(client.get(HOME).content.decode(), "auditor")
    assert count(html, Stage.PROPOSED) == 2 and count(html, Stage.DRAFT) == 1
    latest = Agent.history.order_by("-history_date").first()
    assert latest.history_change_reason in html and str(latest.history_user) in html


def test_the_admin_sees_every_count_and_the_admin_link(client, admin_user, estate):
    client.force_login(admin_user)
    html = client.get(HOME).content.decode()
    mine = section(html, "admin")
    assert count(mine, "agents") == Agent.objects.count()
    assert count(mine, "releases") == Release.objects.count()
    assert count(mine, "releases_in_review") == Release.objects.filter(
        state=ReleaseState.SUBMITTED).count()
    assert count(mine, "users") == User.objects.filter(is_service_account=False).count()
    assert count(mine, "active_tokens") == ApiToken.objects.count()
    assert reverse("admin:index") in mine


def test_the_navigation_fits_the_role(client, owner, compliance, admin_user):
    queue, admin = reverse("inventory:intake-queue"), reverse("admin:index")
    for user, sees_queue, sees_admin in ((owner, False, False), (compliance, True, False),
                                         (admin_user, True, True)):
        client.force_login(user)
        html = client.get(HOME).content.decode()
        assert 'data-layout="portal"' in html and "/api/docs/" in html
        assert (f'href="{queue}"' in html) is sees_queue
        assert (f'href="{admin}"' in html) is sees_admin


def test_it_requires_login(client):
    response = client.get(HOME)
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_login_and_error_pages_use_the_layout(client, owner):
    assert b'data-layout="portal"' in client.get(reverse("login")).content
    client.force_login(owner)
    missing = client.get("/agents/no-such-agent/")
    assert missing.status_code == 404
    assert b'data-layout="portal"' in missing.content and b"Not found" in missing.content
