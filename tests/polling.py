"""Waiting for a condition in tests: poll it with a deadline that only bounds a hang, never a
fixed sleep standing in for "long enough"."""

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.02) -> bool:
    """True as soon as ``predicate()`` is truthy; False once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
