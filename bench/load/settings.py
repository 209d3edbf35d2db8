"""The load test's settings: Slate's own, plus the bare view's URL, query counting and a mail
backend that sends nothing. Used only by bench/load_test.py's gunicorn and Celery worker."""

from slate.settings import *  # noqa: F403
from slate.settings import INSTALLED_APPS, MIDDLEWARE

ROOT_URLCONF = "bench.load.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench.load.apps.BenchLoadConfig"]
MIDDLEWARE = ["bench.load.counting.CountQueriesMiddleware", *MIDDLEWARE]
# The emails are still rendered and "sent" by the tasks; nobody reads them.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
