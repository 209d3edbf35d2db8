"""Services queue Celery tasks by registered name (slate.queue), not by importing tasks: a
typo in a name would only show when the message is sent, so every name queued anywhere in the
code must be a task Celery registers. And since nothing needs to import tasks any more, the
escrow modules import each other at their tops only, in one direction."""

import ast
import importlib
from pathlib import Path

from celery import current_app

ROOT = Path(__file__).resolve().parent.parent
APPS = ("slate", "candidates", "pledges", "compliance", "escrow", "volunteers", "organizing",
        "api", "accounts")  # fmt: skip
BY_NAME = {"enqueue_named_on_commit", "registered_task", "queue_link_if_due"}
# Modules that pass on a name their callers gave (each caller's name is checked instead).
FORWARDERS = {"queue.py", "email_links.py"}


def queued_names() -> list[tuple[str, str]]:
    """(file, name) for every call of a by-name queueing function; a name that is neither a
    string literal nor a module constant is reported as such (it could not be checked)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            # Module-level constants (``ANNOUNCE_TASK = "pledges.tasks.x"``) name tasks too.
            constants = {
                target.id: node.value.value
                for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
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


# Imports inside functions that are not there to dodge a circle: optional tools.
LAZY_IMPORTS_ALLOWED = {
    "apps.py",  # AppConfig.ready connects the receivers once the models are loaded
    "devstripe.py",  # localstripe: a development and test tool, not a production dependency
    "ratelimit.py",  # redis: only where a shared rate limit is configured
}


def test_escrow_modules_import_at_their_top():
    """Every escrow module's dependencies are visible at its top: no import inside a
    function (they used to close a seven-module circle through tasks)."""
    offenders = []
    for path in sorted((ROOT / "escrow").rglob("*.py")):
        if "migrations" in path.parts or path.name in LAZY_IMPORTS_ALLOWED:
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_escrow_modules_depend_in_one_direction():
    """The escrow modules' imports of one another (at their tops, the only place they have
    any) form no circle: each module's dependencies can be read, and tested, below it."""
    modules = {path.stem for path in (ROOT / "escrow").glob("*.py")}
    imports: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((ROOT / "escrow" / f"{name}.py").read_text())
        found = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level == 1 and module:
                    found.add(module.split(".")[0])
                elif node.level == 1:
                    found |= {alias.name for alias in node.names}
                elif module.startswith("escrow."):
                    found.add(module.split(".")[1])
        imports[name] = found & modules
    assert "stripe_gateway" in imports["payments"]  # the walk sees relative imports

    done: set[str] = set()

    def walk(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError(" -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for imported in sorted(imports[name]):
            walk(imported, (*path, name))
        done.add(name)

    for name in sorted(modules):
        walk(name, ())
