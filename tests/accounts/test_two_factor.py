"""Two-factor authentication, and the policy that requires it for the roles that sign off."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from almportal.accounts.middleware import SSO_BACKEND
from almportal.accounts.roles import Role
from almportal.accounts.rules import idp_used_second_factor
from almportal.accounts.services import token_create
from almportal.accounts.two_factor import IDP_SECOND_FACTOR

from ..factories import make_user
from ..releases.helpers import high_release, sign

PASSWORD = "correct horse battery staple"


@pytest.fixture
def policy(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.COMPLIANCE]


@pytest.fixture
def release(owner, compliance, security):
    delegate = make_user(Role.BUSINESS_OWNER, username="dana")
    release = high_release(owner, compliance, delegate)
    sign(release, security, Role.SECURITY)  # security signs first; compliance is next
    return release


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_as_compliance(client, release):
    return client.post(f"{release.get_absolute_url()}sign/",
                       {"role": Role.COMPLIANCE, "decision": "approve", "comment": "OK"})


def log_in(client, username):
    client.logout()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def enrol(client) -> list[str]:
    client.get(reverse("accounts:two-factor-setup"))
    device = TOTPDevice.objects.get(user__username=client.session_user, confirmed=False)
    response = client.post(reverse("accounts:two-factor-setup"), {"code": code_for(device)})
    assert response.status_code == 200 and "recovery codes" in response.content.decode()
    return response.context["codes"]


@pytest.fixture
def carla(client, compliance):
    log_in(client, "carla")
    client.session_user = "carla"
    return client


def test_a_compliance_officer_cannot_sign_before_enrolling_and_signs_after(
        carla, release, compliance, policy):
    response = sign_as_compliance(carla, release)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two-factor-setup"))
    assert not release.signoffs.filter(user=compliance).exists()
    codes = enrol(carla)
    assert len(codes) == 10
    assert sign_as_compliance(carla, release).status_code == 302
    assert release.signoffs.get(user=compliance).decision == "approve"
    assert compliance.history.filter(
        history_change_reason="Two-factor authentication enrolled").exists()


def test_a_wrong_code_does_not_enrol(carla, release, compliance, policy):
    carla.get(reverse("accounts:two-factor-setup"))
    response = carla.post(reverse("accounts:two-factor-setup"), {"code": "000000"})
    assert "not valid" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=compliance, confirmed=True).exists()
    sign_as_compliance(carla, release)
    assert not release.signoffs.filter(user=compliance).exists()


@pytest.fixture
def no_throttle(settings):
    """django-otp makes a device wait after a wrong code; these tests do not wait."""
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_after_enrolling_each_sign_in_asks_for_a_code(carla, release, compliance, policy,
                                                      no_throttle):
    enrol(carla)
    log_in(carla, "carla")
    response = sign_as_compliance(carla, release)
    assert response.url.startswith(reverse("accounts:two-factor-verify"))
    assert not release.signoffs.filter(user=compliance).exists()
    wrong = carla.post(reverse("accounts:two-factor-verify"), {"code": "123456"})
    assert "not valid" in wrong.content.decode()
    device = TOTPDevice.objects.get(user=compliance)
    assert carla.post(reverse("accounts:two-factor-verify"),
                      {"code": code_for(device, steps_ahead=1)}).status_code == 302
    sign_as_compliance(carla, release)
    assert release.signoffs.filter(user=compliance).exists()


def test_a_recovery_code_works_once(carla, compliance, policy):
    codes = enrol(carla)
    log_in(carla, "carla")
    assert carla.post(reverse("accounts:two-factor-verify"),
                      {"code": codes[0]}).status_code == 302
    assert carla.get(reverse("portal:home")).status_code == 200
    log_in(carla, "carla")
    reused = carla.post(reverse("accounts:two-factor-verify"), {"code": codes[0]})
    assert reused.status_code == 200 and "not valid" in reused.content.decode()
    assert carla.get(reverse("portal:home")).status_code == 302


def test_roles_outside_the_policy_are_not_asked(client, owner, policy):
    log_in(client, "olivia")
    assert client.get(reverse("portal:home")).status_code == 200


def test_without_a_policy_no_one_is_asked(carla, release, compliance):
    assert sign_as_compliance(carla, release).status_code == 302
    assert release.signoffs.filter(user=compliance).exists()


def test_the_session_api_refuses_an_unverified_officer(carla, policy):
    assert carla.get("/api/v1/agents/").status_code == 403


def test_an_unenrolled_officers_token_is_refused_under_the_policy(compliance, policy, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    _, key = token_create(actor=compliance, name="x", scopes=["read"],
                          expires_at=timezone.now() + timezone.timedelta(days=1))
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.COMPLIANCE]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/agents/").status_code == 401


def test_recovery_codes_can_be_renewed_and_the_old_ones_stop_working(carla, policy,
                                                                      no_throttle):
    old = enrol(carla)
    response = carla.post(reverse("accounts:two-factor-recovery-codes"))
    new = response.context["codes"]
    assert set(new).isdisjoint(old)
    log_in(carla, "carla")
    assert carla.post(reverse("accounts:two-factor-verify"), {"code": old[1]}).status_code == 200
    assert carla.post(reverse("accounts:two-factor-verify"), {"code": new[1]}).status_code == 302


def test_the_two_factor_pages_need_a_signed_in_person(client):
    assert client.get(reverse("accounts:two-factor-setup")).status_code == 302
    assert client.get(reverse("accounts:two-factor-verify")).status_code == 302


def test_a_wrong_code_makes_the_next_try_wait(carla, compliance, policy):
    enrol(carla)
    log_in(carla, "carla")
    carla.post(reverse("accounts:two-factor-verify"), {"code": "000000"})
    device = TOTPDevice.objects.get(user=compliance)
    refused = carla.post(reverse("accounts:two-factor-verify"),
                         {"code": code_for(device, steps_ahead=1)})
    assert refused.status_code == 200  # throttled: even the right code waits


def test_a_second_factor_reported_by_the_identity_provider_counts(client, compliance, policy,
                                                                 settings):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, SSO_BACKEND]
    client.force_login(compliance, backend=SSO_BACKEND)
    session = client.session
    session[IDP_SECOND_FACTOR] = True
    session.save()
    assert client.get(reverse("portal:home")).status_code == 200
    log_in(client, "carla")  # a password sign-in of the same person does not inherit it
    assert client.get(reverse("portal:home")).status_code == 302


@pytest.mark.parametrize("amr, counts", [(["pwd", "mfa"], True), (["pwd"], False),
                                         ("mfa", False), (None, False)])
def test_only_trusted_amr_values_count(amr, counts):
    assert idp_used_second_factor(amr, ["mfa", "hwk"]) is counts
