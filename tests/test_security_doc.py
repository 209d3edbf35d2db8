"""SECURITY.md names the tests that prove each defence: every one it names must exist, so the
threat model cannot quietly outlive its proof."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `tests/a/b.py`, `tests/a/b.py::test_x`, or `…::test_y` (same file as the last one named).
REFERENCE = re.compile(r"`(tests/[\w/]+\.py|…)(?:::(\w+))?`")


def named_tests() -> list[tuple[str, str | None]]:
    found, current = [], None
    for match in REFERENCE.finditer((ROOT / "SECURITY.md").read_text()):
        path, name = match.groups()
        current = current if path == "…" else path
        found.append((current, name))
    return found


def test_security_md_names_only_tests_that_exist():
    references = named_tests()
    assert len(references) > 20
    missing = []
    for path, name in references:
        file = ROOT / path
        if not file.is_file():
            missing.append(path)
            continue
        if name is None:
            continue
        tree = ast.parse(file.read_text())
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_the_readme_links_to_it():
    assert "(SECURITY.md)" in (ROOT / "README.md").read_text()
