"""A token bucket that keeps one worker process under a Stripe request rate."""

import threading
import time


class RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._lock = threading.Lock()
        self._next_allowed = 0.0

    def wait(self) -> None:
        """Block until the next request may go; a rate of 0 or less means no limit."""
        if self.per_second <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed)
            self._next_allowed = start + 1.0 / self.per_second
        delay = start - now
        if delay > 0:
            time.sleep(delay)
