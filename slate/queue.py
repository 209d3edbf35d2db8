"""Enqueue Celery work only after the surrounding transaction commits."""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def _send(task, args: tuple) -> None:
    try:
        task.delay(*args)
    except Exception:
        # The change is committed already; a lost message only delays the work, because a
        # beat sweeper re-finds every row left in an intermediate state.
        logger.exception("could not enqueue %s%r; the sweeper will pick it up", task.name, args)


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(partial(_send, task, args))
