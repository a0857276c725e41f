"""Working the checklist from the release page: one action on many items, through the same
services as one item, in one transaction (one refusal refuses all, each refusal listed),
recorded per item with actor and reason; the reviewer picker offers only people the rules let
review; htmx redraws the checklist and the gate in place; the API does the same."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from almportal.accounts.roles import Role
from almportal.core.errors import DomainError
from almportal.core.lifecycle import record
from almportal.releases import selectors, services
from almportal.releases.choices import ItemStatus
from almportal.releases.models import ChecklistItem

from ..conftest import client_for
from ..factories import make_user
from .helpers import add_link, high_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return make_user(Role.COMPLIANCE, username="rita")


def items(release):
    return list(release.checklist_items.order_by("order"))


def bulk(actor, release, action, chosen=None, **options):
    return services.checklist_bulk(actor=actor, release=release,
                                   items=chosen if chosen is not None else items(release),
                                   action=action, **options)


def test_thirteen_items_from_open_to_accepted_in_four_actions(release, owner, reviewer):
    assert len(items(release)) == 13
    bulk(owner, release, "assign", reviewer=reviewer, reason="Rita reviews this release")
    bulk(owner, release, "evidence", url="https://wiki.example.test/readiness",
         reason="Readiness page")
    bulk(owner, release, "status", status=ItemStatus.IN_REVIEW)
    bulk(reviewer, release, "status", status=ItemStatus.ACCEPTED, reason="Checked")
    assert {i.status for i in items(release)} == {ItemStatus.ACCEPTED}
    assert services.release_gate(release).condition("checklist").passed
    for item in items(release):
        rows = list(item.history.order_by("history_id"))
        assigned = next(r for r in rows if r.reviewer_id == reviewer.pk)
        assert (assigned.history_user_id, assigned.history_change_reason) == (
            owner.pk, "Rita reviews this release")
        assert (rows[-1].history_user_id, rows[-1].history_change_reason) == (
            reviewer.pk, "Checked")


def test_one_refused_item_refuses_the_whole_action(release, owner, reviewer):
    chosen = items(release)
    services.checklist_item_assign(actor=owner, item=chosen[0], reviewer=reviewer)
    add_link(chosen[0], owner)
    with pytest.raises(services.BulkRefused) as refused:
        bulk(owner, release, "status", status=ItemStatus.IN_REVIEW, chosen=chosen[:3])
    assert refused.value.status_code == 400
    lines = refused.value.errors["items"]
    assert len(lines) == 2 and lines[0].startswith(f"{chosen[1].title}: ")
    assert "Nothing was changed: 2 of the chosen items refused." in refused.value.message
    assert {i.status for i in items(release)} == {ItemStatus.OPEN}  # not even the first


@pytest.mark.parametrize("who", ["auditor", "owner", "delegate"])
def test_nobody_ineligible_becomes_a_reviewer(release, owner, delegate, auditor, who):
    person = {"auditor": auditor, "owner": owner, "delegate": delegate}[who]
    with pytest.raises(services.BulkRefused):
        bulk(owner, release, "assign", reviewer=person)
    assert not release.checklist_items.filter(reviewer__isnull=False).exists()


def test_someone_who_may_not_manage_is_refused_per_item(release, security, reviewer):
    with pytest.raises(services.BulkRefused) as refused:
        bulk(security, release, "assign", reviewer=reviewer)
    assert refused.value.status_code == 403
    assert len(refused.value.errors["items"]) == 13


def test_only_the_reviewer_accepts_and_only_what_is_in_review(release, owner, reviewer,
                                                              security):
    bulk(owner, release, "assign", reviewer=reviewer)
    bulk(owner, release, "evidence", url="https://wiki.example.test/r")
    with pytest.raises(services.BulkRefused) as refused:
        bulk(reviewer, release, "status", status=ItemStatus.ACCEPTED)
    assert refused.value.status_code == 409  # open items cannot be accepted
    bulk(owner, release, "status", status=ItemStatus.IN_REVIEW)
    with pytest.raises(services.BulkRefused):
        bulk(security, release, "status", status=ItemStatus.ACCEPTED)
    with pytest.raises(services.BulkRefused):  # sending back needs a reason
        bulk(reviewer, release, "status", status=ItemStatus.OPEN)


def test_a_request_without_items_or_choice_is_refused(release, owner):
    with pytest.raises(DomainError, match="at least one"):
        bulk(owner, release, "assign", chosen=[])
    with pytest.raises(DomainError, match="owner or a reviewer"):
        bulk(owner, release, "assign")
    with pytest.raises(DomainError, match="what to do"):
        bulk(owner, release, "delete")


def test_the_reviewer_picker_offers_only_eligible_people(release, owner, delegate, auditor,
                                                         security, reviewer, admin_user):
    offered = set(selectors.reviewer_choices(release))
    assert {security, reviewer} <= offered
    assert not {owner, delegate, auditor} & offered
    item = items(release)[0]
    offered = set(selectors.reviewer_choices(release, [item]))
    assert auditor not in offered and item.owner not in offered


def test_the_page_works_the_checklist_with_htmx(client, release, owner, reviewer, auditor):
    client_for(client, owner)
    page = client.get(release.get_absolute_url()).content.decode()
    assert 'hx-post="' in page and 'name="items"' in page
    picker = page[page.index('name="reviewer"'):]
    picker = picker[:picker.index("</select>")]
    assert str(reviewer) in picker and str(auditor) not in picker
    url = f"{release.get_absolute_url()}checklist/"
    chosen = [i.pk for i in items(release)]
    answer = client.post(url, {"items": chosen, "action": "assign", "reviewer": reviewer.pk},
                         HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.startswith('<section class="card" id="checklist"')
    assert 'id="release-gate" hx-swap-oob="true"' in html
    assert "13 checklist items: owner or reviewer named." in html
    answer = client.post(url, {"items": chosen, "action": "status", "status": "accepted"},
                         HTTP_HX_REQUEST="true")
    assert "Nothing was changed: 13 of the chosen items refused." in answer.content.decode()
    answer = client.post(url, {"items": chosen[:2], "action": "evidence",
                               "url": "https://wiki.example.test/r"})
    assert answer.status_code == 302 and answer["Location"].endswith("#checklist-head")
    assert release.checklist_items.filter(evidence__isnull=False).count() == 2


def test_the_bulk_address_refuses_other_users(client, release, other_owner, auditor, reviewer):
    url = f"{release.get_absolute_url()}checklist/"
    data = {"items": [items(release)[0].pk], "action": "assign", "reviewer": reviewer.pk}
    client_for(client, other_owner)
    assert client.post(url, data).status_code == 404
    assert client.post(f"/api/v1/releases/{release.pk}/checklist/", data,
                       content_type="application/json").status_code == 404
    client_for(client, auditor)
    client.post(url, data)
    assert not release.checklist_items.filter(reviewer__isnull=False).exists()
    answer = client.post(f"/api/v1/releases/{release.pk}/checklist/",
                         {**data, "reviewer": reviewer.username},
                         content_type="application/json")
    assert answer.status_code == 403


def test_the_api_does_the_same(client, release, owner, reviewer, auditor):
    client_for(client, owner)
    url = f"/api/v1/releases/{release.pk}/checklist/"
    chosen = [i.pk for i in items(release)]
    answer = client.post(url, {"items": chosen, "action": "assign",
                               "reviewer": reviewer.username, "reason": "independent"},
                         content_type="application/json")
    assert answer.status_code == 200, answer.json()
    assert {row["reviewer"] for row in answer.json()} == {"rita"}
    answer = client.post(url, {"items": chosen, "action": "assign",
                               "reviewer": auditor.username}, content_type="application/json")
    assert answer.status_code == 400
    assert len(answer.json()["errors"]["items"]) == 13
    other = high_release(make_user(Role.BUSINESS_OWNER), make_user(Role.COMPLIANCE),
                         make_user(Role.BUSINESS_OWNER))
    answer = client.post(url, {"items": [other.checklist_items.first().pk],
                               "action": "assign", "reviewer": reviewer.username},
                         content_type="application/json")
    assert answer.status_code == 400


def test_the_item_page_leads_to_the_next_item(client, release, owner, auditor):
    first, second, *_ = items(release)
    client_for(client, owner)
    page = client.get(first.get_absolute_url()).content.decode()
    assert f'href="{second.get_absolute_url()}" rel="next"' in page
    picker = page[page.index('name="reviewer"'):]
    assert str(auditor) not in picker[:picker.index("</select>")]


def test_the_page_query_count_does_not_grow_with_checklist_items(client, release, owner,
                                                                 reviewer):
    client_for(client, owner)
    bulk(owner, release, "assign", reviewer=reviewer, chosen=items(release)[:2])
    for item in items(release)[:2]:
        add_link(item, owner)
    with CaptureQueriesContext(connection) as few:
        assert client.get(release.get_absolute_url()).status_code == 200
    for n in range(10):
        extra = ChecklistItem(release=release, key=f"extra-{n}", title=f"Extra {n}",
                              pillar="cost", order=100 + n, owner=owner, reviewer=reviewer)
        record(extra, actor=owner, reason="test")
        add_link(extra, owner)
    with CaptureQueriesContext(connection) as many:
        page = client.get(release.get_absolute_url())
    assert page.content.decode().count('name="items"') == 23
    assert len(many) == len(few)
