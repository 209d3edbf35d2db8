"""Test settings: the real settings, pointed at the local PostgreSQL and Redis.

The suite needs PostgreSQL (row locks, FOR SHARE, real concurrency), so the default here is
the local server rather than the SQLite that `make run` uses. DATABASE_URL and
CELERY_BROKER_URL still win when set.
"""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slate")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SLATE_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from slate.settings import *  # noqa: F403

# Tasks run inline unless a test starts a real worker (tests/celery_worker fixtures).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Caches in process memory: tests clear them freely (clearing a Redis cache would flush the
# broker's database).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"},
}
# Public pages are rendered fresh in tests (a page kept from one test would show its figures in
# the next); tests/slate/test_page_cache.py turns the cache on.
SLATE_PUBLIC_PAGE_CACHE_SECONDS = 0
# Organizer updates go out as fast as the test can send them (tests that pace them set a rate).
SLATE_UPDATE_SENDS_PER_SECOND = 0
# Contribution rules are read fresh in tests (a rolled-back test's rules must not be kept for
# the next); tests/pledges/test_intake_queries.py turns the shared copy on.
SLATE_COMPLIANCE_RULES_CACHE_SECONDS = 0
# The Stripe request rate and the update sending rate in process memory: each test process
# (each parallel worker, each run on the machine) limits itself, rather than every run on this
# Redis sharing one budget under one key. Tests of the shared limiter name the Redis
# themselves, and the crash tests' worker processes share theirs through their own database.
SLATE_RATE_LIMIT_REDIS_URL = ""
# The whole suite posts the anonymous sign-on form from one address; the limit's own test
# lowers it again (tests/pledges/test_sign_on_rate_limit.py).
SLATE_SIGN_ON_RATE_PER_IP = "10000/h/ip"
