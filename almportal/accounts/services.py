from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ..core.caching import forget
from ..core.errors import DomainError, NotPermitted
from ..core.hashing import sha256_hex
from ..core.lifecycle import lock, record
from .models import ApiToken, TokenScope, User
from .permissions import can
from .roles import READ_ONLY_ROLES, Role

MAX_TOKEN_LIFETIME = timedelta(days=366)
SYSTEM_USERNAME = "system"


def system_user() -> User:
    """The named actor for work no person started: Celery tasks and management commands."""
    user, _ = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "ALM Portal", "last_name": "(system)", "is_active": False,
                  "is_service_account": True},
    )
    return user


def hash_token_key(key: str) -> str:
    return sha256_hex(key)


def _check_token_request(*, actor: User, owner: User, scopes: list[str],
                         expires_at: datetime) -> None:
    if owner != actor:
        if not actor.has_role(Role.ADMIN):
            raise NotPermitted("Only an admin may create tokens for another account.")
        if not owner.is_service_account:
            raise DomainError("Tokens for other users are made only for service accounts.",
                              field="user")
    if not can(actor, "accounts.add_apitoken"):
        raise NotPermitted("Your role may not create API tokens.")
    unknown = set(scopes) - set(TokenScope.values)
    if not scopes or unknown:
        raise DomainError("Choose one or more of: " + ", ".join(TokenScope.values) + ".",
                          field="scopes")
    if TokenScope.SCIM in scopes and not owner.is_service_account:
        raise DomainError("The scim scope is for the identity provider's service account.",
                          field="scopes")
    if owner.roles & READ_ONLY_ROLES and set(scopes) - {TokenScope.READ}:
        raise DomainError("A read-only role can hold only read-scoped tokens.", field="scopes")
    now = timezone.now()
    if expires_at <= now:
        raise DomainError("The expiry must be in the future.", field="expires_at")
    if expires_at > now + MAX_TOKEN_LIFETIME:
        raise DomainError("A token may live at most a year.", field="expires_at")


@transaction.atomic
def token_create(*, actor: User, name: str, scopes: list[str], expires_at: datetime,
                 owner: User | None = None) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret key, which is never stored and shown only now."""
    owner = owner or actor
    _check_token_request(actor=actor, owner=owner, scopes=scopes, expires_at=expires_at)
    key = ApiToken.generate_key()
    token = ApiToken(
        user=owner, name=name.strip() or "token", key_prefix=key[:12],
        key_hash=hash_token_key(key), scopes=sorted(set(scopes)), expires_at=expires_at,
        created_by=actor,
    )
    record(token, actor=actor, reason=f"API token created with scopes {', '.join(token.scopes)}")
    return token, key


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken, reason: str = "") -> ApiToken:
    if token.user_id != actor.pk and not actor.has_role(Role.ADMIN):
        raise NotPermitted("You may revoke only your own tokens.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        record(token, actor=actor, reason=reason or "API token revoked")
    return token


# A token revoked (or its user deactivated) is refused at once by the process that made the
# change and, with the Redis cache, by every process; with a per-process cache, within this bound.
TOKEN_CACHE_SECONDS = 5


def token_cache_key(key_hash: str) -> str:
    return f"api-token:{key_hash}"


def token_authenticate(key: str) -> ApiToken | None:
    """The active token for this key, or None. Read from the cache for a few seconds, so a
    gateway polling hard does not read the token on every request; records its use at most
    once a minute."""
    key_hash = hash_token_key(key)
    token = cache.get(token_cache_key(key_hash))
    if token is None:
        token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
        if token is None:
            return None
        cache.set(token_cache_key(key_hash), token, TOKEN_CACHE_SECONDS)
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        cache.set(token_cache_key(key_hash), token, TOKEN_CACHE_SECONDS)
    return token


def tokens_forget(tokens) -> None:
    """Drop cached look-ups of these tokens (revoked, or their user changed)."""
    forget(token_cache_key(key_hash) for key_hash in tokens.values_list("key_hash", flat=True))


def tokens_visible_to(user: User):
    tokens = ApiToken.objects.select_related("user", "created_by")
    if user.has_role(Role.ADMIN):
        return tokens
    return tokens.filter(user=user)


@transaction.atomic
def user_deactivate(*, actor: User, user: User, reason: str) -> User:
    """Deactivate an account (admins). It can no longer sign in or use its tokens, and the
    agents it owns become ownerless: derived from the inactive owner, who stays on each record
    until compliance reassigns it (see reviews.selectors.ownerless_agents). Its API tokens are
    revoked."""
    if not actor.has_role(Role.ADMIN):
        raise NotPermitted("Only admins deactivate accounts.")
    if user.pk == actor.pk:
        raise DomainError("You cannot deactivate your own account.", field="user")
    return account_deactivate(actor=actor, user=user, reason=reason)


@transaction.atomic
def account_deactivate(*, actor: User, user: User, reason: str) -> User:
    """Deactivate an account whoever asks (an admin, or the identity provider over SCIM, each
    checked by its caller) and revoke its API tokens at once."""
    if user.username == SYSTEM_USERNAME:
        raise DomainError("The system account cannot be changed.", field="user")
    if not reason or not reason.strip():
        raise DomainError("Say why the account is deactivated.", field="reason")
    user = lock(User, user.pk)
    if user.is_active:
        user.is_active = False
        record(user, actor=actor, reason=f"Account deactivated: {reason.strip()}")
    now = timezone.now()
    for token in user.api_tokens.select_for_update().filter(revoked_at__isnull=True):
        token.revoked_at = now
        record(token, actor=actor, reason="API token revoked: its account was deactivated")
    return user


def stamp_last_login(sender, user: User, **kwargs) -> None:
    """On login: last_login only, by an UPDATE of that column, so no history row is written
    (last_login is not tracked; a save would still record an empty change)."""
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
