"""Database queries counted per request and per Celery task, summed in Redis by the load test.

Every connection gets an execute wrapper (``connection_created``) that bumps a per-thread
counter; the middleware (web) and the task signals (worker) add what one request or one task
used to ``<BENCH_RUN>:queries`` under its view or task name, and one to ``<BENCH_RUN>:calls``.
bench/load_test.py reads and clears those hashes between phases.
"""

import os
import threading

import redis
from celery.signals import task_postrun, task_prerun
from django.db.backends.signals import connection_created

_local = threading.local()
_redis = None


def _client():
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    return _redis


def _prefix() -> str:
    return os.environ.get("BENCH_RUN", "bench-load")


def queries_so_far() -> int:
    return getattr(_local, "queries", 0)


def _count(execute, sql, params, many, context):
    _local.queries = queries_so_far() + 1
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def record(name: str, queries: int) -> None:
    pipe = _client().pipeline(transaction=False)
    pipe.hincrby(f"{_prefix()}:queries", name, queries)
    pipe.hincrby(f"{_prefix()}:calls", name, 1)
    pipe.execute()


class CountQueriesMiddleware:
    """Outermost: the session and user lookups and the session save are counted too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        before = queries_so_far()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        record(match.view_name if match else "unresolved", queries_so_far() - before)
        return response


def _task_started(task_id=None, task=None, **kwargs):
    _local.task_start = queries_so_far()


def _task_finished(task_id=None, task=None, **kwargs):
    record(f"task:{task.name}", queries_so_far() - getattr(_local, "task_start", 0))


def install() -> None:
    connection_created.connect(_on_connection, dispatch_uid="bench-count-queries")
    task_prerun.connect(_task_started, dispatch_uid="bench-task-started", weak=False)
    task_postrun.connect(_task_finished, dispatch_uid="bench-task-finished", weak=False)
