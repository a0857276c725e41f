import pytest
from django.urls import reverse

from ..factories import make_user

pytestmark = pytest.mark.django_db


def test_it_writes_no_history_row_on_login_but_stamps_last_login(client):
    user = make_user("auditor", username="lena")
    rows = user.history.count()
    response = client.post(reverse("login"), {"username": "lena",
                                              "password": "correct horse battery staple"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == rows


def test_a_real_change_still_writes_history(client):
    user = make_user("auditor", username="lena")
    rows = user.history.count()
    client.login(username="lena", password="correct horse battery staple")
    user.first_name = "Lena"
    user.save()
    assert user.history.count() == rows + 1
