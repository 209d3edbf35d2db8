"""Slate settings: one module, every value from the environment with an explicit default.

Development defaults (``SLATE_ENV=development``) need nothing installed but Python:
SQLite, a filesystem Celery broker and the console email backend. Production
(``SLATE_ENV=production``) refuses to start without a real SECRET_KEY, database, broker and
public URL, or with any of those stand-ins (recording payouts, a mail backend that sends
nothing, a fake Stripe), and turns on every ``check --deploy`` protection.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SLATE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SLATE_ENV = os.environ.get("SLATE_ENV", "development")
if SLATE_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("SLATE_ENV must be 'development' or 'production'")
PRODUCTION = SLATE_ENV == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "anymail",
    "slate",
    "candidates",
    "pledges",
    "escrow",
    "accounts",
    "compliance",
    "api",
    "volunteers",
    "organizing",
    "demo",
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
    "csp.middleware.CSPMiddleware",
    "slate.middleware.PermissionsPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "slate.urls"
CSRF_FAILURE_VIEW = "slate.views.csrf_failure"
WSGI_APPLICATION = "slate.wsgi.application"
ASGI_APPLICATION = "slate.asgi.application"

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
                "accounts.context_processors.menu",
            ],
        },
    },
]

# --- Browser defences (README "Security"; SECURITY.md) -----------------------------------------
# Scripts, styles, images and requests from Slate's own origin only: no inline script, no
# inline event handler, no inline style anywhere. The two card pages add Stripe.js (see
# escrow.views.allow_stripe_js), the embeddable widget may be framed by any site
# (slate.views.widget), the API docs page runs Redoc (api.urls); every other page may be
# framed by nobody.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browser features no Slate page uses are switched off for the page and every frame in it.
SLATE_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# --- Database -------------------------------------------------------------------------------
if PRODUCTION and not os.environ.get("DATABASE_URL"):
    # web, worker and beat run in separate containers: each would write its own SQLite file.
    raise ImproperlyConfigured("DATABASE_URL must be set in production (PostgreSQL)")
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'slate.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The dev server, the worker and beat write to one file: WAL lets readers go on while
    # one writes, and IMMEDIATE transactions fail fast instead of deadlocking on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get(
    "ACCOUNT_EMAIL_VERIFICATION", "mandatory" if PRODUCTION else "optional"
)
LOGIN_REDIRECT_URL = "/"
# Two-factor (allauth.mfa): TOTP with recovery codes. Open to everyone; organizers, candidates
# and partner-org admins must have it (accounts.middleware.RequireMFAMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Slate"
MFA_ADAPTER = "accounts.adapter.SlateMFAAdapter"
# One 30-second step either side, for phones whose clocks drift.
MFA_TOTP_TOLERANCE = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
if not PRODUCTION:
    # WhiteNoise warns about a missing STATIC_ROOT; in development it serves from the finders.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
# Where the file backend (development and tests only) writes each email.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Some notices are sent under a row lock (so a failed send is retried, not lost): a mail
# server that stops answering must not hold that lock for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Slate <noreply@slate.localhost>")
# How long the signed preferences and unsubscribe links in emails work (slate.mail).
SLATE_EMAIL_LINK_MAX_AGE_DAYS = env_int("SLATE_EMAIL_LINK_MAX_AGE_DAYS", 180)
# A mail provider through django-anymail: set EMAIL_BACKEND to Slate's backend for it
# (slate.mail_transport.MailgunBackend, .PostmarkBackend, .SendGridBackend: anymail's, sending
# only to the provider's API over https, following no redirect, ignoring proxy variables) and
# its keys as ANYMAIL_<NAME> (ANYMAIL_MAILGUN_API_KEY, ANYMAIL_MAILGUN_SENDER_DOMAIN,
# ANYMAIL_POSTMARK_SERVER_TOKEN, ...). Production refuses anymail's own backends (below).
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
# The providers' event webhooks at /anymail/<provider>/tracking/ (bounces and complaints
# suppress the address: slate.mail_events). Each call must carry ANYMAIL_WEBHOOK_SECRET
# ("user:password", given to the provider in the webhook's URL) as HTTP basic auth; Mailgun's
# are signed as well (ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY). Off in production unless asked for,
# and then refused without a secret (below); on in development, where anyone may post.
SLATE_EMAIL_WEBHOOKS = env_bool("SLATE_EMAIL_WEBHOOKS", not PRODUCTION)
# Ask the mail provider to report when a candidate opens an invitation, digest or "one
# signature away" email (never supporters' mail), so the organizer dashboard can show whether
# an unsigned candidate opened the last one. Needs the provider's tracking webhook above; off,
# the dashboard leaves the column out.
SLATE_EMAIL_TRACK_OPENS = env_bool("SLATE_EMAIL_TRACK_OPENS", False)
# How old a Mailgun webhook's signed timestamp may be (slate.mail_events; tokens are kept as
# long, so a replay inside the window is refused as a repeated token). Mailgun retries a call
# it could not deliver for about 8 hours (5, 10, 15 min, 1, 2, 4 h); in case a retry carries
# the first attempt's signature, the window covers all of them, with room for late first calls.
SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS = env_int("SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS", 12 * 3600)
if SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS < 60:
    raise ImproperlyConfigured(
        "SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS must be at least 60 (Mailgun's calls take time "
        "to arrive)"
    )
# Hosts Slate's provider backends may call over plain http: the tests' local stand-in for the
# provider. Production refuses to start with any (an API key must not cross the network bare).
SLATE_MAIL_API_HTTP_HOSTS = env_list("SLATE_MAIL_API_HTTP_HOSTS", "")

# --- Celery -----------------------------------------------------------------------------------
# With no broker configured, a filesystem transport lets the web server, worker and beat talk
# through a folder under var/, so `make run` needs no broker server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", os.environ.get("REDIS_URL", ""))
if not CELERY_BROKER_URL and PRODUCTION:
    # The folder broker is per container: tasks the web queued would never reach the worker.
    raise ImproperlyConfigured("CELERY_BROKER_URL (or REDIS_URL) must be set in production")
if not CELERY_BROKER_URL:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # The news that reaches unsigned candidates (candidates.news): sent once each.
    "candidate-weekly-digest": {
        "task": "candidates.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=15, minute=0),
    },
    "candidate-one-signature-away": {
        "task": "candidates.tasks.send_one_away_notices",
        "schedule": crontab(minute="*/10"),
    },
    # Milestone news to supporters (organizing.milestones): the day's "signed" batch, and any
    # fan-out a failed task left.
    "milestone-news": {
        "task": "organizing.tasks.sweep_milestones",
        "schedule": crontab(minute=20),
    },
    "evaluate-open-slates": {
        "task": "slate.tasks.evaluate_open_slates",
        "schedule": 60.0,
    },
    "expire-overdue-slates": {
        "task": "slate.tasks.expire_overdue_slates",
        "schedule": 60.0,
    },
    "sweep-undispatched-slate-events": {
        "task": "slate.tasks.sweep_undispatched_transitions",
        "schedule": 60.0,
    },
    "sweep-stranded-money": {
        "task": "escrow.tasks.sweep_stranded_money",
        "schedule": 60.0,
    },
    "place-and-renew-holds": {
        "task": "escrow.tasks.place_and_renew_holds",
        "schedule": crontab(minute="*/15"),
    },
    "fail-overdue-needs-action": {
        "task": "escrow.tasks.fail_overdue_needs_action",
        "schedule": crontab(minute=30),
    },
    "remind-needs-action": {
        "task": "escrow.tasks.remind_needs_action",
        "schedule": crontab(minute=45),
    },
    "book-stripe-fees": {
        "task": "escrow.tasks.book_stripe_fees",
        "schedule": crontab(minute="*/10"),
    },
    "reconcile-with-stripe": {
        "task": "escrow.tasks.reconcile_with_stripe",
        "schedule": crontab(hour=3, minute=15),
    },
    "alert-payouts-near-due": {
        "task": "escrow.tasks.alert_payouts_near_due",
        "schedule": crontab(minute=0),
    },
    "send-shift-reminders": {
        "task": "volunteers.tasks.send_shift_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "sweep-unmatched-volunteers": {
        "task": "volunteers.tasks.sweep_unmatched_slates",
        "schedule": crontab(minute="*/5"),
    },
    "send-due-webhooks": {
        "task": "api.tasks.send_due_webhooks",
        "schedule": 60.0,
    },
    "forget-idempotency-keys": {
        "task": "api.tasks.forget_idempotency_records",
        "schedule": crontab(hour=4, minute=0),
    },
    "sweep-expired-slates": {
        "task": "pledges.tasks.sweep_expired_slates",
        "schedule": crontab(minute="*/5"),
    },
    "sweep-pledge-notices": {
        "task": "pledges.tasks.sweep_pledge_notices",
        "schedule": crontab(minute="*/5"),
    },
    "send-receipts": {
        "task": "compliance.tasks.send_missing_receipts",
        "schedule": crontab(minute="*/5"),
    },
    "sweep-organizer-updates": {
        "task": "organizing.tasks.sweep_organizer_updates",
        "schedule": 60.0,
    },
    # A deleted supporter's saved cards still attached because the detach task was lost.
    "forget-cards-left-attached": {
        "task": "compliance.tasks.forget_cards_left_attached",
        "schedule": 60.0,
    },
    "request-missing-donor-details": {
        "task": "compliance.tasks.request_missing_donor_details",
        "schedule": crontab(hour=14, minute=0),
    },
}

# --- Slate business settings ------------------------------------------------------------------
# Largest single money pledge, in cents. Default $28,000: the 2025-26 federal limit of $3,500
# per candidate per election across an eight-candidate slate.
SLATE_MAX_PLEDGE_CENTS = env_int("SLATE_MAX_PLEDGE_CENTS", 2_800_000)
SLATE_MIN_PLEDGE_CENTS = env_int("SLATE_MIN_PLEDGE_CENTS", 100)
SLATE_MAX_VOLUNTEER_HOURS = env_int("SLATE_MAX_VOLUNTEER_HOURS", 1_000)
# Concurrent pledges spread their counter updates over this many rows per slate.
SLATE_COUNTER_SHARDS = env_int("SLATE_COUNTER_SHARDS", 8)
# A transition whose event was not dispatched after this long is re-dispatched by the sweeper.
SLATE_EVENT_REDISPATCH_AFTER_SECONDS = env_int("SLATE_EVENT_REDISPATCH_AFTER_SECONDS", 60)
SLATE_VOID_CHUNK_SIZE = env_int("SLATE_VOID_CHUNK_SIZE", 500)
# The slate page, its widget and its progress fragment, as anonymous visitors see them, are
# kept this long in the default cache (slate.page_cache); 0 turns the cache off.
SLATE_PUBLIC_PAGE_CACHE_SECONDS = env_int("SLATE_PUBLIC_PAGE_CACHE_SECONDS", 5)

# The contribution rules (cycles, elections, limits) a pledge is checked against are kept this
# long in the default cache (compliance.rules.RuleBook.shared); saving one through the admin
# forgets them at once. 0 reads them on every pledge.
SLATE_COMPLIANCE_RULES_CACHE_SECONDS = env_int("SLATE_COMPLIANCE_RULES_CACHE_SECONDS", 60)

# --- Escrow -----------------------------------------------------------------------------------
# A card authorization lapses after about 7 days (Visa merchant-initiated: 4 days 18 hours);
# holds are placed this close to the deadline and renewed before they lapse.
SLATE_HOLD_WINDOW_HOURS = env_int("SLATE_HOLD_WINDOW_HOURS", 96)
SLATE_HOLD_VALID_HOURS = env_int("SLATE_HOLD_VALID_HOURS", 108)
SLATE_NEEDS_ACTION_GRACE_DAYS = env_int("SLATE_NEEDS_ACTION_GRACE_DAYS", 7)
SLATE_PAYMENT_STALE_SECONDS = env_int("SLATE_PAYMENT_STALE_SECONDS", 300)
# A Stripe event that failed this many times (the sweeper retries it every stale period) is
# reported to staff.
SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS = env_int("SLATE_WEBHOOK_ALERT_AFTER_ATTEMPTS", 3)
SLATE_RELEASE_CHUNK_SIZE = env_int("SLATE_RELEASE_CHUNK_SIZE", 100)
# Pledges of one release chunk in their Stripe call at once (threads in the worker process,
# each with its own database connection while the chunk runs). A Stripe call takes a few
# hundred milliseconds: one at a time, a worker process settles 3 pledges a second at most.
SLATE_RELEASE_THREADS = env_int("SLATE_RELEASE_THREADS", 8)
# Stripe requests per second during release and hold renewal; 0 means no limit. Every worker
# shares the one rate through Redis (the broker's Redis unless SLATE_RATE_LIMIT_REDIS_URL names
# another); without Redis each worker process keeps it on its own.
SLATE_STRIPE_REQUESTS_PER_SECOND = env_int("SLATE_STRIPE_REQUESTS_PER_SECOND", 25)
SLATE_RATE_LIMIT_REDIS_URL = os.environ.get(
    "SLATE_RATE_LIMIT_REDIS_URL",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
# How candidates with a Stripe Connect account are paid. ``recording`` moves no money (it
# notes the transfer in process memory): for the tests and `make run` only, refused below in
# production.
PAYOUT_GATEWAYS = ("stripe_connect", "recording")
SLATE_PAYOUT_GATEWAY = os.environ.get(
    "SLATE_PAYOUT_GATEWAY", "stripe_connect" if PRODUCTION else "recording"
)
if SLATE_PAYOUT_GATEWAY not in PAYOUT_GATEWAYS:
    raise ImproperlyConfigured(
        f"SLATE_PAYOUT_GATEWAY must be one of {', '.join(PAYOUT_GATEWAYS)}, "
        f"got {SLATE_PAYOUT_GATEWAY!r}"
    )
SLATE_PAYOUT_DUE_DAYS = env_int("SLATE_PAYOUT_DUE_DAYS", 10)
# Links in emails point here.
# Organizer updates (organizing.updates): at most this many per supporter per 30 days across
# every slate (milestones and pledge mail are not counted), sent in batches of
# SLATE_UPDATE_BATCH_SIZE at SLATE_UPDATE_SENDS_PER_SECOND shared by every worker through Redis
# (0 = no limit; keep it under the mail provider's sending rate). A sending update that makes
# no progress for SLATE_UPDATE_STALE_SECONDS is resumed by the beat sweeper.
SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS = env_int("SLATE_UPDATES_PER_SUPPORTER_PER_30_DAYS", 2)
SLATE_UPDATE_BATCH_SIZE = env_int("SLATE_UPDATE_BATCH_SIZE", 500)
SLATE_UPDATE_SENDS_PER_SECOND = env_int("SLATE_UPDATE_SENDS_PER_SECOND", 14)
SLATE_UPDATE_STALE_SECONDS = env_int("SLATE_UPDATE_STALE_SECONDS", 300)

SLATE_PUBLIC_URL = os.environ.get("SLATE_PUBLIC_URL", "http://127.0.0.1:8000")
if PRODUCTION and urlsplit(SLATE_PUBLIC_URL).hostname in (None, "localhost", "127.0.0.1", "::1"):
    # Every email's links would point at the server's own loopback.
    raise ImproperlyConfigured(
        "SLATE_PUBLIC_URL must be set in production to the site's public address, "
        "e.g. https://slate.example.org (links in emails start with it)"
    )

# --- Stripe (used by the escrow app) ---------------------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
# `make run` (manage.py rundev) starts a fake Stripe and writes where it is to this file while
# it runs, so every command run beside it (reconcile, check_ledger, sweep in a second
# terminal) talks to the same fake Stripe. Read only in development and only when no Stripe
# key is set in the environment.
FAKE_STRIPE_FILE = VAR_DIR / "fake-stripe.json"
STRIPE_FROM_FAKE_STRIPE_FILE = False
if not PRODUCTION and not STRIPE_SECRET_KEY and FAKE_STRIPE_FILE.is_file():
    import json

    try:
        _fake_stripe = json.loads(FAKE_STRIPE_FILE.read_text())
    except (OSError, ValueError):
        _fake_stripe = {}
    if isinstance(_fake_stripe, dict) and _fake_stripe.get("STRIPE_SECRET_KEY"):
        STRIPE_SECRET_KEY = str(_fake_stripe["STRIPE_SECRET_KEY"])
        STRIPE_PUBLISHABLE_KEY = str(_fake_stripe.get("STRIPE_PUBLISHABLE_KEY", ""))
        STRIPE_WEBHOOK_SECRET = str(_fake_stripe.get("STRIPE_WEBHOOK_SECRET", ""))
        STRIPE_API_BASE = str(_fake_stripe.get("STRIPE_API_BASE", ""))
        STRIPE_FROM_FAKE_STRIPE_FILE = True

# --- REST framework (the api app; see api/ and README "API") ----------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes "not logged in" a 401, not a 403.
        "api.authentication.PersonalAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.WriteRateByUser",
        "api.throttling.WriteRateByIP",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.SlateAutoSchema",
    # Proxies in front of the web process whose X-Forwarded-For is trusted (for per-IP limits).
    "NUM_PROXIES": env_int("SLATE_API_NUM_PROXIES", 0),
}
# allauth's limits (failed logins per address, shared by the login form and HTTP Basic on
# POST /api/v1/tokens) count the same client address as the API's.
ALLAUTH_TRUSTED_PROXY_COUNT = REST_FRAMEWORK["NUM_PROXIES"]
# The anonymous sign-on form emails a confirmation link to any address typed: posts per client
# address (allauth's rate syntax, "<count>/<period>/ip").
SLATE_SIGN_ON_RATE_PER_IP = os.environ.get("SLATE_SIGN_ON_RATE_PER_IP", "20/h/ip")
SPECTACULAR_SETTINGS = {
    "TITLE": "Slate API",
    "DESCRIPTION": (
        "Slates, candidates, signatures, pledges and partner organizations.\n\n"
        "Authenticate with the browser session or `Authorization: Bearer <token>` (personal "
        "access tokens: /api/tokens/). Every error is `{code, message, fields}`. Writes are "
        "rate-limited per user and per IP (429 with Retry-After). Lists use cursor pagination."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SlateStateEnum": "slate.states.SlateState",
        "PledgeStateEnum": "pledges.states.PledgeState",
        "PledgeKindEnum": "pledges.states.PledgeKind",
        "PartnerKindEnum": "slate.models.PartnerOrganization.Kind",
        "UsStateEnum": "slate.geography.US_STATES",
    },
}
# Writes per user and per client IP (DRF rate strings: "60/min", "1000/hour").
SLATE_API_WRITE_RATE_USER = os.environ.get("SLATE_API_WRITE_RATE_USER", "60/min")
SLATE_API_WRITE_RATE_IP = os.environ.get("SLATE_API_WRITE_RATE_IP", "120/min")
# Outbound webhooks to partner organizations (api/webhooks.py).
SLATE_WEBHOOK_MAX_ATTEMPTS = env_int("SLATE_WEBHOOK_MAX_ATTEMPTS", 8)
SLATE_WEBHOOK_RETRY_BASE_SECONDS = env_int("SLATE_WEBHOOK_RETRY_BASE_SECONDS", 30)
SLATE_WEBHOOK_REQUIRE_HTTPS = env_bool("SLATE_WEBHOOK_REQUIRE_HTTPS", PRODUCTION)
# One deadline for each whole delivery (resolve, connect, send, the answer's headers).
SLATE_WEBHOOK_DEADLINE_SECONDS = env_int("SLATE_WEBHOOK_DEADLINE_SECONDS", 10)
# Private networks a webhook may call anyway: development's and the tests' receivers on
# loopback. Partner URLs are hostile, so production refuses to start with any.
SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS = env_list(
    "SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS", "" if PRODUCTION else "127.0.0.0/8,::1/128"
)
if PRODUCTION and SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS:
    raise ImproperlyConfigured(
        "SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS is for development and tests; production "
        "calls partner webhooks on public addresses only"
    )
# Throttle counters live in the "api" cache, and allauth keeps its login-failure counts and
# the two-factor codes already used in "default": Redis when the broker (or REDIS_URL) is
# Redis, so every web process counts together (in process memory, each gunicorn worker would
# grant its own budget of password guesses and accept a code another worker has already
# seen); process memory otherwise (development).
_API_CACHE_URL = os.environ.get("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache",
         "LOCATION": _API_CACHE_URL, "KEY_PREFIX": "slate"}
        if _API_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    "api": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache",
         "LOCATION": _API_CACHE_URL, "KEY_PREFIX": "slate-api"}
        if _API_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    ),
}  # fmt: skip
# Sessions are read on every logged-in request: from the shared Redis cache when there is one
# (written through to the database, which stays the record), saving a query per request.
# Never from a cache in process memory: a logout in one web process would leave the session
# alive in another's copy.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if _API_CACHE_URL
    else "django.contrib.sessions.backends.db"
)

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The Stripe library logs every request and response at INFO: thousands of lines in a
    # release, hundreds in one reconcile. Our own logs say what happened.
    "loggers": {"stripe": {"level": os.environ.get("STRIPE_LOG_LEVEL", "WARNING")}},
}

# --- Production hardening ---------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Referrer-Policy, nosniff, X-Frame-Options and the CSP: "Browser defences" above, the same
    # in every environment so the tests see what production sends.


# Stand-ins that let development and the tests run with nothing installed. In production each
# would run quietly while nothing real happens (payouts marked sent with no money moved, mail
# printed to a log nobody reads, Stripe answered by a fake), so production refuses to start.
DEVELOPMENT_EMAIL_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("console", "locmem", "dummy", "filebased")
} | {"anymail.backends.test.EmailBackend"}
# anymail's provider backends, and Slate's pinned one for each (slate/mail_transport.py).
RAW_ANYMAIL_BACKENDS = {
    f"anymail.backends.{module}.EmailBackend": f"slate.mail_transport.{name}Backend"
    for module, name in (("mailgun", "Mailgun"), ("postmark", "Postmark"), ("sendgrid", "SendGrid"))
}
REAL_STRIPE_API_BASE = "https://api.stripe.com"
if PRODUCTION:
    if SLATE_PAYOUT_GATEWAY == "recording":
        raise ImproperlyConfigured(
            "SLATE_PAYOUT_GATEWAY=recording moves no money (it only notes transfers in memory); "
            "production pays candidates through stripe_connect (leave it unset)"
        )
    if EMAIL_BACKEND in DEVELOPMENT_EMAIL_BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_BACKEND={EMAIL_BACKEND} sends nothing; production needs a real mail "
            "backend (leave it unset for SMTP)"
        )
    if EMAIL_BACKEND.startswith("anymail.") and EMAIL_BACKEND not in DEVELOPMENT_EMAIL_BACKENDS:
        pinned = RAW_ANYMAIL_BACKENDS.get(EMAIL_BACKEND, "one of slate.mail_transport's backends")
        raise ImproperlyConfigured(
            f"EMAIL_BACKEND={EMAIL_BACKEND} posts through a session that follows redirects and "
            f"takes proxies from the environment; use {pinned} (the same provider, pinned to "
            "its API host)"
        )
    if SLATE_MAIL_API_HTTP_HOSTS:
        raise ImproperlyConfigured(
            "SLATE_MAIL_API_HTTP_HOSTS is for the tests' stand-in provider; production talks to "
            "its mail provider over https only"
        )
    if SLATE_EMAIL_WEBHOOKS and ":" not in ANYMAIL.get("WEBHOOK_SECRET", ""):
        raise ImproperlyConfigured(
            "SLATE_EMAIL_WEBHOOKS is on but ANYMAIL_WEBHOOK_SECRET (user:password) is not set: "
            "anyone could post bounces and suppress supporters' addresses"
        )
    if STRIPE_API_BASE and STRIPE_API_BASE.rstrip("/") != REAL_STRIPE_API_BASE:
        raise ImproperlyConfigured(
            f"STRIPE_API_BASE={STRIPE_API_BASE} is not Stripe (localstripe, say); production "
            "talks to Stripe itself (leave it unset)"
        )
