"""allauth keeps its login-failure counts (which POST /api/v1/tokens spends too) and the
two-factor codes already used in Django's default cache. In production that cache is the
shared Redis, so several web processes count one budget and refuse a replayed code together."""

import subprocess
import sys

from tests.test_deploy import ROOT, production_env


def _production_caches(tmp_path, **overrides) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']"
         ".get('LOCATION', ''))"],
        cwd=ROOT, env=production_env(tmp_path, **overrides), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_keeps_allauths_limits_in_the_shared_redis(tmp_path):
    backend = _production_caches(tmp_path, CELERY_BROKER_URL="redis://redis:6379/0")
    assert backend == "django.core.cache.backends.redis.RedisCache redis://redis:6379/0"


def test_development_without_redis_keeps_them_in_memory(tmp_path):
    # No broker named: development's filesystem broker, so no Redis to share.
    backend = _production_caches(
        tmp_path, SLATE_ENV="development", SECRET_KEY=None, CELERY_BROKER_URL=None
    )
    assert backend.startswith("django.core.cache.backends.locmem.LocMemCache")
