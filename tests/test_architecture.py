"""The shape of the app code (every app package, without its migrations), read from its
source: a module's imports sit at its top, where they tell its dependencies, and the modules
import one another in one direction, and none is over 500 lines. An import inside a function
to dodge a circle means the code is in the wrong place (see ../shared/STYLE.md); the few that
must be there, and the one long module, are listed below with why."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("slate", "candidates", "pledges", "escrow", "volunteers", "accounts", "compliance",
        "organizing", "api", "demo")  # fmt: skip

# (file, module imported) -> why it is imported inside a function.
LAZY_IMPORTS_ALLOWED = {
    ("escrow/devstripe.py", "localstripe"): "optional development dependency (demo extra)",
    ("escrow/devstripe.py", "aiohttp"): "localstripe's server, likewise optional",
    ("slate/data/generate_zip_table.py", "zipcodes"): "a hand-run tool's own, not Slate's",
}
# Every app's AppConfig.ready() imports its receivers (and fills policy slots): Django's way
# to connect them once the models are loaded, so any import there is allowed.
READY = "ready"


def app_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def imported_module(node: ast.Import | ast.ImportFrom) -> str:
    """The module an import statement names, as written ("." for ``from . import x``)."""
    if isinstance(node, ast.Import):
        return node.names[0].name.split(".")[0]
    return "." * node.level + (node.module or "") if node.level else node.module.split(".")[0]


def lazy_imports(path: Path) -> list[tuple[str, int, str]]:
    """(function, line, module) for each import inside a function or method of ``path``."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append((function.name, node.lineno, imported_module(node)))
    return found


def test_app_modules_import_at_their_top():
    offenders = []
    seen_allowed = set()
    for path in app_modules():
        where = str(path.relative_to(ROOT))
        for function, line, module in lazy_imports(path):
            if path.name == "apps.py" and function == READY:
                continue
            if (where, module) in LAZY_IMPORTS_ALLOWED:
                seen_allowed.add((where, module))
                continue
            offenders.append(f"{where}:{line} {function}() imports {module}")
    assert offenders == []
    # An entry nothing needs any more is taken off the list, so the list stays the truth.
    assert seen_allowed == set(LAZY_IMPORTS_ALLOWED)


def test_the_walk_sees_imports_inside_functions():
    """The check above passes only because the walk finds what it looks for."""
    apps_py = lazy_imports(ROOT / "pledges" / "apps.py")
    assert [(function, module) for function, _, module in apps_py] == [("ready", ".")]


def private_names_imported(path: Path) -> list[str]:
    """``module.name`` for each private name (one leading underscore) ``path`` imports."""
    return [
        f"{node.module or '.'}.{alias.name}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_no_module_imports_another_modules_private_names():
    """A name another module needs is public, and says so by its name: a private one may
    change or go without its module's callers being looked for."""
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in app_modules()
        if (names := private_names_imported(path))
    }
    assert offenders == {}


def test_the_walk_sees_private_names_imported(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("from .wizard import _preview, show\nfrom x import __version__\n")
    assert private_names_imported(module) == ["wizard._preview"]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports() -> dict[str, set[str]]:
    """For each app module, the app modules it imports at its top (what importing it runs)."""
    paths = {module_name(path): path for path in app_modules()}
    imports: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module
                found.add(module)
                found |= {f"{module}.{alias.name}" for alias in node.names}
        imports[name] = (found & paths.keys()) - {name}
    return imports


def test_app_modules_depend_in_one_direction():
    """No circle among the app modules' top-level imports: each module's dependencies can be
    read, and tested, below it (import-linter checks the order of the apps; this, the order
    of the modules inside each)."""
    imports = top_level_imports()
    # The walk sees relative imports, ``from . import x`` and absolute ones.
    assert "escrow.stripe_gateway" in imports["escrow.payments"]
    assert "pledges.notifications" in imports["pledges.tasks"]
    assert "slate.services" in imports["candidates.services"]

    done: set[str] = set()

    def walk(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError(" -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for imported in sorted(imports[name]):
            walk(imported, (*path, name))
        done.add(name)

    for name in sorted(imports):
        walk(name, ())


MAX_LINES = 500
# file -> why it may be longer.
LONG_MODULES_ALLOWED = {
    "slate/settings.py": "Django's settings stay one file reading the environment (STYLE.md)",
}


def test_app_modules_are_small():
    """A module past 500 lines is split along its seams into topic modules beside it (as
    escrow's services are), unless listed above with why."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in app_modules()
    }
    assert sizes["slate/settings.py"] > MAX_LINES  # the count is the file's lines
    long = {where: lines for where, lines in sizes.items() if lines > MAX_LINES}
    unexplained = {where: n for where, n in long.items() if where not in LONG_MODULES_ALLOWED}
    assert unexplained == {}
    assert set(long) == set(LONG_MODULES_ALLOWED)  # an entry no longer needed is taken off
