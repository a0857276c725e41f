"""One settings module, configured from the environment (see README, "Configuration")."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ALM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (container secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the form templates, so that templates/django/forms/ can refine them
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Our apps, lowest layer first (ARCHITECTURE §1).
    "almportal.core",
    "almportal.accounts",
    "almportal.inventory",
    "almportal.risk",
    "almportal.releases",
    "almportal.operations",
    "almportal.enforcement",
    "almportal.standards",
    "almportal.retirement",
    "almportal.reviews",
    "almportal.audit",
    "almportal.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Identity: second factor, session lifetimes, then the login lockout (kept last, as axes asks).
    "django_otp.middleware.OTPMiddleware",
    "almportal.accounts.middleware.SessionLifetimeMiddleware",
    "almportal.accounts.middleware.SecondFactorPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "almportal.urls"
WSGI_APPLICATION = "almportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "almportal.accounts.context_processors.roles",
                "almportal.accounts.context_processors.notifications",
            ],
        },
    },
]

# Form widgets and labels render through the template engine, so the project's templates can
# refine Django's (templates/django/forms/label.html drops the trailing colon).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'almportal.sqlite3'}",
        # Each web process keeps its connection between requests (a new PostgreSQL
        # connection costs more than most queries a page runs), checked before reuse.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Pages filter with correlated subqueries whose estimated cost passes JIT's threshold while
    # they run in milliseconds: compiling them took a second a page at fleet scale.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Wait for a lock rather than fail at once: the worker and the web server share the file.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "almportal.accounts.backends.LoginLockoutBackend",  # refuses locked accounts and addresses
    "almportal.accounts.backends.PasswordBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served directly: evidence is streamed through a permission check

# Requests: intake forms are small; evidence uploads have their own limit in the releases app.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# Evidence files of readiness checklists (releases app): the largest accepted, in bytes.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# Decommissioning: how long a retired agent's logs and evidence are kept at least, in days
# (six months by default: the EU AI Act's log-keeping articles ask for at least that).
DECOMMISSION_LOG_RETENTION_DAYS = env_int("DECOMMISSION_LOG_RETENTION_DAYS", 183)

# Governance: django-guardian and history.
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no anonymous user row: every action has a real actor
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True  # history is evidence, not an undo button

# REST API (ARCHITECTURE §8).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "almportal.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "almportal.core.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "almportal.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "almportal.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "almportal.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ALM Portal API",
    "DESCRIPTION": "Governance of AI agents across their lifecycle. Token auth: "
    "`Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags come from the segment after this prefix; the OTLP route at the root (/v1/metrics)
    # would otherwise shorten the common prefix to "/" and put every operation under "api".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "almportal.core.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DataClassificationEnum": "almportal.inventory.choices.DataClassification",
        "AssessedTierEnum": "almportal.risk.choices.TIER_CHOICES",
        "ChecklistItemStatusEnum": "almportal.releases.choices.ItemStatus",
        "SignOffDecisionEnum": "almportal.releases.choices.Decision",
        "EvidenceKindEnum": "almportal.releases.choices.EvidenceKind",
        "TokenStatusEnum": ["active", "expired", "revoked"],
        "IncidentStatusEnum": "almportal.operations.choices.IncidentStatus",
        "ExportKindEnum": "almportal.audit.models.ExportKind",  # packs and exports on record
        "SeverityEnum": "almportal.operations.choices.Severity",  # also a risk's rating
        "RiskStatusEnum": "almportal.risk.choices.RiskStatus",
        "TreatmentKindEnum": "almportal.risk.choices.TreatmentKind",
        "TreatmentStatusEnum": "almportal.risk.choices.TreatmentStatus",
        "OversightRoleEnum": "almportal.operations.choices.OversightRole",
        "PortalRoleEnum": "almportal.accounts.roles.Role",
        "EventLogKindEnum": "almportal.operations.choices.EventLogKind",
        "InternalAuditKindEnum": "almportal.audit.models.AuditKind",
        "WatchedCardKindEnum": "almportal.standards.models.CardKind",
        "InternalAuditStateEnum": "almportal.audit.models.AuditState",
        "FindingSeverityEnum": "almportal.audit.models.FindingSeverity",
        "CorrectiveActionStateEnum": "almportal.audit.models.ActionState",
    },
}

# Django's cache (the runtime status gateways poll, API token look-ups, throttle counters): Redis
# when REDIS_URL is set, shared by every web process; else local memory, right for one process.
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"], "KEY_PREFIX": "almportal"}}
    # Sessions are read from the cache and written through to the database (no query per page).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long a user's roles and model permissions may be served from the cache (accounts.access):
# a change made through Django drops them at once; this bounds a change made outside it.
ACCESS_CACHE_SECONDS = env_int("ACCESS_CACHE_SECONDS", 60)
# Likewise for the tier policies most pages read (risk.selectors.policies_by_tier).
TIER_POLICY_CACHE_SECONDS = env_int("TIER_POLICY_CACHE_SECONDS", 300)

# Celery (ARCHITECTURE §6): Redis when REDIS_URL is set, else an embedded filesystem broker
# that needs no server, so `make run` has a real worker and beat with nothing to install.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport does not create its folders.
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Redis redelivers a task not acknowledged within the visibility timeout: keep it well above
# the longest task (a portfolio pack), which the hard time limit bounds.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 2 * 3600)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
        "CELERY_VISIBILITY_TIMEOUT", 3 * CELERY_TASK_TIME_LIMIT // 2)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# Email: console in development; SMTP settings from the environment in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ALM Portal <almportal@localhost>")
# The outbox (accounts.outbox): only the worker talks to the mail server, waiting at most
# EMAIL_TIMEOUT seconds for an answer. A failed e-mail is retried after OUTBOX_RETRY_SECONDS,
# doubling up to OUTBOX_RETRY_MAX_SECONDS; a claimed one whose sender died is sent again after
# OUTBOX_LEASE_SECONDS (keep it above the time a run takes to send OUTBOX_BATCH e-mails).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
OUTBOX_BATCH = env_int("OUTBOX_BATCH", 500)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 900)
OUTBOX_RETRY_SECONDS = env_int("OUTBOX_RETRY_SECONDS", 30)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600)
# Reminders: a release waiting this many days for sign-off reminds those who could sign.
SIGNOFF_REMINDER_DAYS = env_int("SIGNOFF_REMINDER_DAYS", 3)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Documents fetched from a URL (imports, watched live cards): at most this many seconds and bytes.
STANDARDS_FETCH_TIMEOUT = env_int("STANDARDS_FETCH_TIMEOUT", 5)
STANDARDS_FETCH_MAX_BYTES = env_int("STANDARDS_FETCH_MAX_BYTES", 512 * 1024)
# Whether those URLs may name private, loopback or link-local addresses (off: an owner could
# otherwise make the portal read its own network). The name is resolved once and the fetch
# connects to the address checked; through a proxy (https_proxy), the proxy connects.
STANDARDS_FETCH_ALLOW_PRIVATE = env_bool("STANDARDS_FETCH_ALLOW_PRIVATE", False)
# The namespace of server.json names exported for MCP servers whose name has none.
STANDARDS_MCP_NAMESPACE = os.environ.get("STANDARDS_MCP_NAMESPACE", "local.almportal")
# The currency costs and budgets are reported in (telemetry sends plain numbers).
COST_CURRENCY = os.environ.get("COST_CURRENCY", "EUR")
# OpenTelemetry ingestion: exports handled at once before answering 429 with Retry-After.
OTLP_MAX_IN_FLIGHT = env_int("OTLP_MAX_IN_FLIGHT", 8)
# Raw metric samples are kept this long; their per-minute and per-hour rollups much longer.
RAW_SAMPLE_RETENTION_DAYS = env_int("RAW_SAMPLE_RETENTION_DAYS", 30)
ROLLUP_RETENTION_DAYS = max(183, env_int("ROLLUP_RETENTION_DAYS", 400))
# The event log (usage periods, stops, overrides); never under 183 days (operations.rules).
EVENT_LOG_RETENTION_DAYS = env_int("EVENT_LOG_RETENTION_DAYS", 400)

# Security: production defaults that pass `manage.py check --deploy`.
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Response headers: a strict Content-Security-Policy (django-csp: scripts and styles only from
# our own static files, no inline script or event handler), Permissions-Policy, and no-store on
# what a signed-in user or an API client sees (almportal.core.middleware).
MIDDLEWARE += [
    "csp.middleware.CSPMiddleware",
    "almportal.core.middleware.ResponseHeadersMiddleware",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the API docs draw their icons as data: URLs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "almportal.core.logging.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Identity (README, "Single sign-on, provisioning and two-factor").
# OpenID Connect: on when an issuer and a client id are set; endpoints come from discovery.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_CREATE_USER = True
OIDC_STORE_ID_TOKEN = False
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"
SSO_ENABLED = bool(OIDC_ISSUER and OIDC_RP_CLIENT_ID)
if SSO_ENABLED:
    AUTHENTICATION_BACKENDS.append("almportal.accounts.sso.OidcBackend")
# Local password sign-in can be switched off once everyone signs in through the identity provider.
PASSWORD_LOGIN_ENABLED = env_bool("PASSWORD_LOGIN_ENABLED", True)

# Login protection (django-axes): N failures per account or per address lock it for a while.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "almportal.accounts.backends.client_address"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)  # proxies that append X-Forwarded-For
AXES_VERBOSE = False

# API throttling per user and per token (429 with Retry-After beyond the rate).
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "almportal.accounts.throttling.UserRateThrottle",
    "almportal.accounts.throttling.TokenRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": os.environ.get("API_RATE_PER_USER", "1200/min"),
    "token": os.environ.get("API_RATE_PER_TOKEN", "600/min"),
    # The runtime status and policy gateways poll, per token (accounts.throttling).
    "gateway": os.environ.get("API_RATE_GATEWAY_PER_TOKEN", "6000/min"),
}
# Throttle counters live in the cache above: Redis, shared by every web node, when REDIS_URL is set.

# Sessions: an idle timeout and an absolute lifetime, both in minutes.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_AGE_MINUTES = env_int("SESSION_MAX_AGE_MINUTES", 12 * 60)
SESSION_COOKIE_AGE = SESSION_MAX_AGE_MINUTES * 60
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60

# Two-factor: the roles that must sign in with a second factor (comma-separated role values).
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES")
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "ALM Portal")
# `amr` values in the identity provider's ID token that count as the second factor (empty: the
# portal asks for its own code after single sign-on too).
OIDC_TRUSTED_AMR = env_list("OIDC_TRUSTED_AMR")

# Audit: the Ed25519 key that signs checkpoints of the ledger head. Kept outside the database
# (environment or a file only the portal's processes read); see README "Evidence and signing".
AUDIT_SIGNING_KEY = os.environ.get("AUDIT_SIGNING_KEY", "")
AUDIT_SIGNING_KEY_FILE = os.environ.get("AUDIT_SIGNING_KEY_FILE", "")
# The ledger holds the seeded configuration's entries after `migrate`; a transactional test
# restores the database's serialized rows, which would re-save (UPDATE) append-only entries.
# The audit app's tables start empty after the flush instead, as they were before seeding.
TEST_NON_SERIALIZED_APPS = ["almportal.audit"]
