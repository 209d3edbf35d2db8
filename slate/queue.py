"""Enqueue Celery work only after the surrounding transaction commits."""

import importlib
import logging
from functools import partial

from celery import current_app
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


def registered_task(name: str):
    """The Celery task registered as ``name`` ("pledges.tasks.send_sign_on_link"), its module
    imported if this process has not yet. Lets a service queue its own app's task without
    importing the tasks module, which imports the service."""
    if name not in current_app.tasks:
        importlib.import_module(name.rsplit(".", 1)[0])
    return current_app.tasks[name]


def _send_named(name: str, args: tuple) -> None:
    try:
        task = registered_task(name)
    except Exception:
        # As in _send: never let one callback's failure skip the on_commit callbacks after it
        # (tests/test_queued_names.py checks every queued name is a registered task).
        logger.exception("could not find task %s for %r; the sweeper will pick it up", name, args)
        return
    _send(task, args)


def enqueue_named_on_commit(name: str, *args) -> None:
    """``enqueue_on_commit`` for a task known by its registered name."""
    transaction.on_commit(partial(_send_named, name, args))
