"""The demo users' home counts are their work, as test_work_counts.py holds a factory estate's
(the demo seeded once for the module)."""

import pytest

from almportal.accounts.models import User

from .test_work_counts import assert_one_source

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ["owner", "compliance", "security", "auditor", "admin"])
def test_the_demo_users_home_counts_are_their_work(client, demo_data, username):
    counts = assert_one_source(client, User.objects.get(username=username))
    if username in ("owner", "compliance", "admin"):
        assert counts, "the demo gives this role work to do"
