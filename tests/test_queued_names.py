"""Services queue Celery tasks by registered name (slate.queue), not by importing tasks: a
typo in a name would only show when the message is sent, so every name queued anywhere in the
code must be a task Celery registers. (That no module imports another inside a function, nor
in a circle, is tests/test_architecture.py's.)"""

import ast
import importlib
from pathlib import Path

import pytest
from celery import current_app
from django.db import transaction

from slate import queue

ROOT = Path(__file__).resolve().parent.parent
APPS = ("slate", "candidates", "pledges", "compliance", "escrow", "volunteers", "organizing",
        "api", "accounts", "demo")  # fmt: skip
BY_NAME = {"enqueue_named_on_commit", "registered_task", "queue_link_if_due"}
# Modules that pass on a name their callers gave (each caller's name is checked instead).
FORWARDERS = {"queue.py", "email_links.py"}


def module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level constants (``ANNOUNCE_TASK = "pledges.tasks.x"``): they name tasks too."""
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def imported_constants(path: Path, tree: ast.Module) -> dict[str, object]:
    """The constants ``path`` imports from another app module (``from .updates import X``)."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module or node.level > 1:
            continue
        source = (
            path.parent / f"{node.module}.py"
            if node.level
            else ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
        )
        if not source.is_file():
            continue
        theirs = module_constants(ast.parse(source.read_text()))
        for alias in node.names:
            if alias.name in theirs:
                found[alias.asname or alias.name] = theirs[alias.name]
    return found


def queued_names() -> list[tuple[str, str]]:
    """(file, name) for every call of a by-name queueing function; a name that is neither a
    string literal nor a constant of its module (or imported from another) is reported as such
    (it could not be checked)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            constants = imported_constants(path, tree) | module_constants(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                function = node.func
                called = getattr(function, "id", None) or getattr(function, "attr", None)
                if called not in BY_NAME or path.name in FORWARDERS:
                    continue
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant):
                    name = first.value
                elif isinstance(first, ast.Name) and first.id in constants:
                    name = constants[first.id]
                else:
                    name = "<not a literal>"
                found.append((str(path.relative_to(ROOT)), name))
    return found


def test_every_task_queued_by_name_is_registered():
    found = queued_names()
    assert len(found) >= 20  # the escrow app alone queues that many
    missing = []
    for where, name in found:
        if name != "<not a literal>":
            importlib.import_module(name.rsplit(".", 1)[0])
        if name not in current_app.tasks:
            missing.append(f"{where}: {name}")
    assert missing == []


def test_escrow_services_do_not_import_the_tasks_module():
    """The tasks import the services; the services queue the tasks by name. An import the
    other way closes a circle."""
    offenders = []
    for path in sorted((ROOT / "escrow").glob("*.py")):
        if path.name == "tasks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (
                node.module in ("tasks", "escrow.tasks")
                or (node.module is None and any(a.name == "tasks" for a in node.names))
            ):
                offenders.append(path.name)
    assert offenders == []


@pytest.mark.django_db
def test_a_name_that_is_no_task_is_logged_and_the_next_callback_still_runs(
    django_capture_on_commit_callbacks, caplog
):
    """Django stops running a commit's callbacks at the first that raises: a bad name must
    cost only its own message, as a broker that refuses one does (slate.queue._send)."""
    ran = []
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue_named_on_commit("slate.tasks.no_such_task", 1)
        transaction.on_commit(lambda: ran.append("next"))
    assert ran == ["next"]
    assert "could not find task slate.tasks.no_such_task" in caplog.text
