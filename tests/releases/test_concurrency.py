"""Simultaneous sign-offs on PostgreSQL: real threads, real transactions, one barrier."""

import threading

import pytest
from django.db import connection, connections

from almportal.accounts.roles import Role
from almportal.core.errors import DomainError
from almportal.releases import services
from almportal.releases.choices import ReleaseState
from almportal.releases.models import SignOff

from .helpers import complete_checklist, high_release, passing_run, sign

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (set DATABASE_URL): SQLite serialises every "
                              "writer, so there is no race to test"),
]


def _at_once(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait()
            outcomes[n] = call()
        except DomainError as error:
            outcomes[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_simultaneous_approvals_leave_one_sign_off_each_and_approve_once(
        owner, compliance, compliance2, security, delegate):
    release = high_release(owner, compliance, delegate)
    complete_checklist(release, compliance)
    passing_run(release)
    sign(release, security, Role.SECURITY)
    sign(release, owner, Role.BUSINESS_OWNER)

    def approve(user):
        return lambda: services.signoff_record(actor=user, release=release,
                                               role=Role.COMPLIANCE, decision="approve")

    # Two officers sign at the same instant; one of them double-submits.
    outcomes = _at_once([approve(compliance), approve(compliance2), approve(compliance),
                         approve(compliance2)])

    assert sum(isinstance(o, SignOff) for o in outcomes) == 2
    assert all(isinstance(o, SignOff | DomainError) for o in outcomes)
    rows = SignOff.objects.filter(release=release, role=Role.COMPLIANCE, voided_at__isnull=True)
    assert sorted(rows.values_list("user__username", flat=True)) == ["carla", "cora"]
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    assert release.history.filter(state=ReleaseState.APPROVED).count() == 1


def test_the_database_refuses_a_second_sign_off_by_one_person(owner, compliance, security,
                                                                delegate):
    from django.db import IntegrityError, transaction

    release = high_release(owner, compliance, delegate)
    sign(release, security, Role.SECURITY)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(release=release, role=Role.COMPLIANCE, user=security,
                               decision="approve", manifest_hash=release.manifest_hash)
