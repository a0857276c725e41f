"""Pages and API endpoints: the object for this user or 404, auditors read but never write,
lists with a query count that does not grow with rows, the inbox."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.accounts.roles import Role
from almportal.releases.choices import ItemStatus

from ..conftest import client_for
from ..factories import make_user
from .helpers import GOOD_METRICS, add_link, high_release, sign, suite_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, compliance, delegate):
    return high_release(owner, compliance, delegate)


def object_urls(release):
    item = release.checklist_items.first()
    return [release.get_absolute_url(), item.get_absolute_url(),
            f"/api/v1/checklist-items/{item.pk}/", f"/api/v1/releases/{release.pk}/gate/"]


def write_urls(release):
    item = release.checklist_items.first()
    suite = suite_for(release)
    page = release.get_absolute_url()
    return [
        (f"{page}sign/", {"role": "compliance_officer", "decision": "approve"}),
        (f"{page}suites/new/", {"name": "x", "dataset_ref": "d", "dataset_version": "1",
                                "metrics": ["groundedness"]}),
        (f"{page}runs/new/", {"suite": suite.pk, **GOOD_METRICS}),
        (item.get_absolute_url(), {"reviewer": ""}),
        (f"{item.get_absolute_url()}status/", {"status": ItemStatus.IN_REVIEW}),
    ]


def api_writes(release):
    item = release.checklist_items.first()
    suite = suite_for(release)
    return [
        ("patch", f"/api/v1/checklist-items/{item.pk}/", {"reviewer": "carla"}),
        ("post", f"/api/v1/checklist-items/{item.pk}/status/", {"status": "in_review"}),
        ("post", f"/api/v1/checklist-items/{item.pk}/evidence/",
         {"kind": "link", "url": "https://example.test/x"}),
        ("post", "/api/v1/evaluation-suites/", {"agent": release.agent.slug, "name": "y",
                                                "dataset_ref": "d", "dataset_version": "1",
                                                "metrics": ["groundedness"]}),
        ("post", "/api/v1/evaluation-runs/", {"release": release.pk, "suite": suite.pk,
                                              "metrics": GOOD_METRICS}),
        ("post", "/api/v1/signoffs/", {"release": release.pk, "role": "compliance_officer",
                                       "decision": "approve"}),
    ]


def test_reviewers_and_auditors_see_every_object_and_other_owners_get_404(
        client, release, owner, compliance, security, auditor, other_owner):
    for user in (owner, compliance, security, auditor):
        client_for(client, user)
        for url in object_urls(release):
            assert client.get(url).status_code == 200, (user, url)
    client_for(client, other_owner)
    for url in object_urls(release):
        assert client.get(url).status_code == 404, url
    for url, data in write_urls(release):
        assert client.post(url, data).status_code == 404, url


def test_an_auditor_is_refused_every_page_write(client, release, auditor):
    client_for(client, auditor)
    for url, data in write_urls(release):
        assert client.post(url, data).status_code == 403, url
    assert not release.signoffs.exists() and not release.evaluation_runs.exists()


def test_an_auditor_is_refused_every_api_write(client, release, auditor):
    client_for(client, auditor)
    for method, url, data in api_writes(release):
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code == 403, (url, response.content)


def test_other_owners_do_not_find_the_objects_over_the_api(client, release, other_owner):
    client_for(client, other_owner)
    assert client.get("/api/v1/checklist-items/").json()["results"] == []
    assert client.get("/api/v1/signoffs/").json()["results"] == []
    for method, url, data in api_writes(release)[:3]:
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code == 404, url


def test_the_gate_endpoint_lists_each_condition(client, release, owner):
    client_for(client, owner)
    body = client.get(f"/api/v1/releases/{release.pk}/gate/").json()
    assert body["passed"] is False
    assert [c["key"] for c in body["conditions"]] == [
        "risk_assessment", "checklist", "evaluations", "signoffs"]
    assert "Compliance officer: 0 of 2 sign-offs." in body["conditions"][3]["missing"]


def test_the_inventory_release_page_shows_the_gate(client, release, owner):
    client_for(client, owner)
    page = client.get(release.get_absolute_url()).content.decode()
    assert 'data-condition="signoffs" data-passed="false"' in page
    assert "Compliance officer: 0 of 2 sign-offs." in page


def test_the_release_list_query_count_does_not_grow_with_rows(client, owner, compliance,
                                                             delegate):
    high_release(owner, compliance, delegate)
    client_for(client, compliance)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/releases/").status_code == 200
    for n in range(3):
        high_release(make_user(Role.BUSINESS_OWNER), compliance,
                     make_user(Role.BUSINESS_OWNER, username=f"d{n}"))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/releases/")
    assert response.content.decode().count("data-release=") == 4
    assert len(many) == len(few)


def test_the_inbox_lists_sign_offs_and_items_waiting(client, release, owner, compliance,
                                                     security, compliance2):
    client_for(client, security)
    page = client.get("/releases/inbox/").content.decode()
    assert f'data-release="{release.pk}"' in page and "security reviewer" in page
    item = release.checklist_items.first()
    client_for(client, owner)
    assert f'data-item="{item.pk}"' in client.get("/releases/inbox/").content.decode()
    from almportal.releases import services

    add_link(item, owner)
    services.checklist_item_assign(actor=owner, item=item, reviewer=compliance2)
    services.checklist_item_set_status(actor=owner, item=item, status=ItemStatus.IN_REVIEW)
    client_for(client, compliance2)
    assert f'data-item="{item.pk}"' in client.get("/releases/inbox/").content.decode()
    sign(release, security, Role.SECURITY)
    client_for(client, security)
    assert f'data-release="{release.pk}"' not in client.get("/releases/inbox/").content.decode()


def test_the_inbox_query_count_does_not_grow_with_rows(client, owner, compliance, delegate,
                                                       security):
    from almportal.releases.selectors import work_waiting_for

    high_release(owner, compliance, delegate)
    with CaptureQueriesContext(connection) as few:
        assert len(work_waiting_for(security).signoffs) == 1
    for n in range(3):
        high_release(make_user(Role.BUSINESS_OWNER), compliance,
                     make_user(Role.BUSINESS_OWNER, username=f"d{n}"))
    security = type(security).objects.get(pk=security.pk)
    with CaptureQueriesContext(connection) as many:
        assert len(work_waiting_for(security).signoffs) == 4
    assert len(many) == len(few)


def test_the_readiness_page_offers_signing_to_those_who_may(client, release, security,
                                                            delegate):
    client_for(client, security)
    assert "Record my decision" in client.get(release.get_absolute_url()).content.decode()
    client_for(client, delegate)
    assert "Record my decision" not in client.get(release.get_absolute_url()).content.decode()


def test_a_sign_off_through_the_page(client, release, security):
    client_for(client, security)
    response = client.post(f"{release.get_absolute_url()}sign/",
                           {"role": Role.SECURITY, "decision": "approve", "comment": "OK"})
    assert response.status_code == 302
    assert release.signoffs.get().user == security


def test_an_order_violation_is_a_message_on_the_page(client, release, compliance):
    client_for(client, compliance)
    response = client.post(f"{release.get_absolute_url()}sign/",
                           {"role": Role.COMPLIANCE, "decision": "approve"}, follow=True)
    assert "Security reviewer sign-offs come first" in response.content.decode()
    assert not release.signoffs.exists()
