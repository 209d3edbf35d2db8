"""The demo clock: the seed backdates its story by running the services under it.

The services stamp rows with ``timezone.now()``, so ``demo_clock`` patches
``django.utils.timezone.now`` and, because a model field's ``default=timezone.now`` holds the
original function and ignores that patch, also the ``get_default`` of every such field. The
patch is process-wide while the seed runs, which is fine for a management command and tests.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.apps import apps
from django.db import models
from django.utils import timezone


class Clock:
    def __init__(self, real_now):
        self._real_now = real_now
        self.at: datetime | None = None

    def now(self) -> datetime:
        return self.at if self.at is not None else self._real_now()


@contextmanager
def demo_clock() -> Iterator[Clock]:
    """Make ``timezone.now()`` and every ``default=timezone.now`` field return ``clock.at``."""
    real_now = timezone.now
    clock = Clock(real_now)
    patched = [
        model_field
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.DateTimeField) and model_field.default is real_now
    ]
    try:
        for model_field in patched:
            model_field.get_default = clock.now
        with mock.patch("django.utils.timezone.now", clock.now):
            yield clock
    finally:
        for model_field in patched:
            model_field.__dict__.pop("get_default", None)
