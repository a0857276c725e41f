import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from almportal.accounts.models import Notification
from almportal.accounts.notifications import notify

pytestmark = pytest.mark.django_db


def test_the_header_shows_the_unread_count(client, owner):
    notify(users=[owner], kind="test", subject="a")
    notify(users=[owner], kind="test", subject="b")
    client.force_login(owner)
    page = client.get(reverse("accounts:notifications"))
    assert b'aria-label="2 unread"' in page.content


def test_the_list_links_to_each_object_and_marks_read_inline(client, owner, other_owner):
    [mine] = notify(users=[owner], kind="test", subject="Review due", url="/reviews/1/")
    [theirs] = notify(users=[other_owner], kind="test", subject="Theirs")
    client.force_login(owner)
    page = client.get(reverse("accounts:notifications"))
    assert b'href="/reviews/1/"' in page.content and b"Theirs" not in page.content
    url = reverse("accounts:notification-read", args=[theirs.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("accounts:notification-read", args=[mine.pk])).status_code == 405
    response = client.post(reverse("accounts:notification-read", args=[mine.pk]),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"read" in response.content
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read(client, owner):
    notify(users=[owner], kind="test", subject="a")
    client.force_login(owner)
    assert client.post(reverse("accounts:notifications-read-all")).status_code == 302
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_the_list_query_count_does_not_grow_with_rows(client, owner):
    notify(users=[owner], kind="test", subject="first")
    client.force_login(owner)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("accounts:notifications")).status_code == 200
        return len(captured)

    one = queries()
    for n in range(10):
        notify(users=[owner], kind="test", subject=f"more {n}")
    assert queries() == one
