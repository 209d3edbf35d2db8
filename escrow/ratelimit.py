"""Keep Slate under a Stripe request rate.

``SharedRateLimiter`` holds every worker process together under one rate: Redis keeps the
time of the next free request slot and each caller reserves a slot with one atomic script
(the generic cell rate algorithm), then sleeps until its slot comes. Many release tasks on
many workers thus share ``SLATE_STRIPE_REQUESTS_PER_SECOND`` instead of each taking it whole.
``RateLimiter`` is the same bucket inside one process: the fallback where there is no Redis
(``make run``'s filesystem broker) or Redis cannot be reached.
"""

import logging
import threading
import time

import redis

logger = logging.getLogger(__name__)

# KEYS[1]: the key holding the next free slot (microseconds, Redis's clock, so every worker
# agrees); ARGV[1]: microseconds between requests. Returns how long the caller must wait.
RESERVE_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
local following = slot + tonumber(ARGV[1])
local keep_ms = math.ceil((following - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', following), 'PX', keep_ms)
return slot - now
"""


class RateLimiter:
    """A token bucket for one process."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._lock = threading.Lock()
        self._next_allowed = 0.0

    def reserve(self) -> float:
        """Take the next request slot; seconds until it comes."""
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed)
            self._next_allowed = start + 1.0 / self.per_second
        return start - now

    def wait(self) -> None:
        """Block until the next request may go; a rate of 0 or less means no limit."""
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)


class SharedRateLimiter(RateLimiter):
    """One rate for every process that uses the same Redis key."""

    def __init__(self, per_second: float, *, redis_url: str, key: str) -> None:
        super().__init__(per_second)
        self.key = key
        self._client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(RESERVE_SLOT)

    def reserve(self) -> float:
        if self.per_second <= 0:
            return 0.0
        interval_us = max(1, round(1_000_000 / self.per_second))
        try:
            return int(self._script(keys=[self.key], args=[interval_us])) / 1_000_000
        except Exception as exc:  # redis.RedisError, OSError: degrade, never stop the release
            # Alone, this process keeps the rate by itself; the whole fleet may briefly go
            # over it until Redis answers again, which Stripe answers with 429s we retry.
            logger.warning("shared Stripe rate limit unavailable (%s); limiting locally", exc)
            return super().reserve()


_limiters: dict[tuple[float, str, str], RateLimiter] = {}


def limiter_for(per_second: float, *, redis_url: str, key: str) -> RateLimiter:
    """The process's limiter for ``key`` at ``per_second``: shared through Redis when there is
    a ``redis_url``, else local. Kept per (rate, Redis, key), so settings changed at run time
    (tests, the benchmarks) get a new one and every caller of the same rate shares one."""
    cache_key = (per_second, redis_url, key)
    if cache_key not in _limiters:
        _limiters[cache_key] = (
            SharedRateLimiter(per_second, redis_url=redis_url, key=key)
            if redis_url
            else RateLimiter(per_second)
        )
    return _limiters[cache_key]
