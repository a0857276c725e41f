"""Two-factor authentication (django-otp): a TOTP authenticator app, and single-use recovery
codes for when the phone is lost. Enrolling and verifying are recorded in the person's history."""

import secrets

from django.db import transaction
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..core.errors import DomainError
from ..core.lifecycle import lock, record
from .models import User

ENROLLED = "second_factor_enrolled"  # session key: this person has a confirmed device
IDP_SECOND_FACTOR = "idp_second_factor"  # session key: the identity provider checked one
RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_authenticator(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device enrolment shows the QR code of (made on first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME,
                                               confirmed=False)


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes",
                                                   defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def second_factor_enrol(*, request, user: User, code: str) -> list[str]:
    """Confirm the pending authenticator with a code from it; return fresh recovery codes,
    shown once. The session counts as verified from now on."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if has_second_factor(user):
        raise DomainError("You already have an authenticator; use a code from it.", field="code")
    if device is None or not device.verify_token(_clean(code)):
        raise DomainError("That code is not valid. Enter the six digits your app shows now.",
                          field="code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    record(lock(User, user.pk), actor=user, reason="Two-factor authentication enrolled")
    otp_login(request, device)
    request.session[ENROLLED] = True
    return codes


def second_factor_verify(*, request, user: User, code: str) -> None:
    """Verify this session with a code from the authenticator or a recovery code (each
    recovery code works once)."""
    device = match_token(user, _clean(code))
    if device is None:
        raise DomainError("That code is not valid.", field="code")
    otp_login(request, device)
    if isinstance(device, StaticDevice):
        record(lock(User, user.pk), actor=user, reason="Signed in with a recovery code")


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    if not has_second_factor(user):
        raise DomainError("Enrol an authenticator first.")
    codes = _new_recovery_codes(user)
    record(lock(User, user.pk), actor=user, reason="Two-factor recovery codes renewed")
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def _clean(code: str) -> str:
    return "".join((code or "").split())
