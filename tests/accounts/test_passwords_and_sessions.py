"""Change your password, reset it by e-mail (the link works once), and sessions that end."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from almportal.accounts.middleware import LAST_SEEN, STARTED
from almportal.accounts.models import OutgoingEmail, User
from almportal.accounts.outbox import outbox_send

from ..factories import make_user

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a fresh and long passphrase 42"


def _can_log_in(username, password) -> bool:
    return authenticate(username=username, password=password) is not None


def test_it_changes_the_password(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:password-change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert _can_log_in("olivia", NEW_PASSWORD) and not _can_log_in("olivia", PASSWORD)
    assert owner.history.filter(history_change_reason="Password changed",
                                history_user=owner).exists()
    assert client.get(reverse("portal:home")).status_code == 200  # still signed in


def test_it_refuses_a_wrong_old_password(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:password-change"), {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200 and "old password was entered incorrectly" in (
        response.content.decode())
    assert _can_log_in("olivia", PASSWORD)


@pytest.mark.parametrize("weak", ["olivia1234", "password", "12345678901", "short"])
def test_it_refuses_a_weak_password(client, owner, weak):
    client.force_login(owner)
    response = client.post(reverse("accounts:password-change"), {
        "old_password": PASSWORD, "new_password1": weak, "new_password2": weak})
    assert response.status_code == 200
    assert _can_log_in("olivia", PASSWORD)


def test_the_password_page_needs_a_signed_in_person(client):
    assert client.get(reverse("accounts:password-change")).status_code == 302


def test_a_single_sign_on_account_has_no_password_to_change(client, db):
    person = make_user(username="sso-person")
    person.set_unusable_password()
    person.save()
    client.force_login(person)
    assert client.get(reverse("accounts:password-change")).status_code == 404


def _reset_link(email: str) -> str:
    outbox_send()
    message = next(m for m in mail.outbox if email in m.to)
    return re.search(r"https?://[^/\s]+(/account/password-reset/\S+/)", message.body).group(1)


def test_a_reset_link_works_once(client, owner):
    response = client.post(reverse("accounts:password-reset"), {"email": owner.email})
    assert response.status_code == 302 and mail.outbox == []  # queued, not sent in the request
    assert OutgoingEmail.objects.filter(to=[owner.email]).count() == 1
    link = _reset_link(owner.email)
    assert OutgoingEmail.objects.get(to=[owner.email]).body == ""  # the link is gone once sent
    form_page = client.get(link, follow=True)
    assert b"Set a new password" in form_page.content and form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("accounts:password-reset-done")
    assert _can_log_in("olivia", NEW_PASSWORD)
    again = client.get(link, follow=True)
    assert not again.context["validlink"]
    assert b"no longer valid" in again.content


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db):
    response = client.post(reverse("accounts:password-reset"), {"email": "no@example.test"})
    outbox_send()
    assert response.status_code == 302 and mail.outbox == []


def test_service_accounts_get_no_reset_link(client, db):
    make_user(username="ci-bot", is_service_account=True, email="ci@example.test")
    client.post(reverse("accounts:password-reset"), {"email": "ci@example.test"})
    outbox_send()
    assert mail.outbox == []


def test_service_accounts_never_sign_in_with_a_password(client, db):
    make_user(username="ci-bot", is_service_account=True)
    response = client.post(reverse("login"), {"username": "ci-bot", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_password_sign_in_and_reset_can_be_switched_off(client, owner, settings):
    settings.PASSWORD_LOGIN_ENABLED = False
    response = client.post(reverse("login"), {"username": "olivia", "password": PASSWORD})
    assert "Password sign-in is switched off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:password-reset")).status_code == 404


# --- Sessions ---------------------------------------------------------------------------------

def _age(client, **ago: timedelta) -> None:
    session = client.session
    now = timezone.now()
    for key, delta in ago.items():
        session[{"started": STARTED, "last_seen": LAST_SEEN}[key]] = (now - delta).isoformat()
    session.save()


def test_an_idle_session_expires(client, owner):
    client.force_login(owner)
    _age(client, last_seen=timedelta(minutes=31))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_an_active_session_lives_on(client, owner):
    client.force_login(owner)
    _age(client, last_seen=timedelta(minutes=29), started=timedelta(hours=11))
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_session_ends_at_its_maximum_length_however_active(client, owner):
    client.force_login(owner)
    _age(client, last_seen=timedelta(seconds=5), started=timedelta(hours=12, minutes=1))
    assert client.get(reverse("portal:home")).status_code == 302


def test_the_timeouts_are_configurable(client, owner, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client.force_login(owner)
    _age(client, last_seen=timedelta(minutes=6))
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_expired_session_gets_401_from_the_api(client, owner):
    client.force_login(owner)
    _age(client, last_seen=timedelta(hours=1))
    assert client.get("/api/v1/agents/").status_code == 401


def test_an_admin_creates_a_service_account_without_a_password(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_user_add"), {
        "username": "gateway-bot", "usable_password": "false", "is_service_account": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    robot = User.objects.get(username="gateway-bot")
    assert robot.is_service_account and not robot.has_usable_password()


def test_an_expired_htmx_request_sends_the_whole_page_to_the_login(client, owner):
    client.force_login(owner)
    _age(client, last_seen=timedelta(hours=1))
    response = client.get(reverse("portal:home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login"))
