"""Dependencies point one way: doors (pages, API families, tasks) → actions → engines / renderer /
models. Nothing below the doors imports the API package, webhook deliveries included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (module, what it imports from generations.api) allowed, and why.
ALLOWED = {
    # A beat task is a door; it runs the API's own housekeeping.
    ("generations/tasks.py", "generations.api.idempotency"),
}


def _api_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "generations" and any(a.name == "api" for a in node.names):
                found.add("generations.api")
            elif node.module.startswith("generations.api"):
                # `from generations.api import idempotency` reads as the module it names.
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("generations.api"))
    return found


def test_it_reads_imports_of_the_api_package():
    assert "generations.api.idempotency" in _api_imports(ROOT / "generations/tasks.py")
    assert "generations.api.edge.route" in _api_imports(ROOT / "generations/api/v0.py")


def test_nothing_below_the_doors_imports_the_api_package():
    seen = set()
    for package in ("generations", "studio", "mockups"):
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("generations/api/") or rel.endswith("urls.py"):
                continue
            seen.update((rel, name) for name in _api_imports(path))
    assert seen <= ALLOWED, sorted(seen - ALLOWED)


# Modules that read database rows for others: importing one is importing the models.
ROW_READERS = {"generations.model_configs", "generations.pricing"}


def _model_imports(path: Path) -> set[str]:
    """The models modules (`<app>.models`, or a module in ROW_READERS) a file imports, at any
    depth (a function's lazy import counts, and so does one under TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[-1] == "models" or n in ROW_READERS)
    return found


def test_it_reads_imports_of_models():
    assert "generations.models" in _model_imports(ROOT / "generations/model_configs.py")
    assert "generations.model_configs" in _model_imports(ROOT / "generations/apps.py")
    assert _model_imports(ROOT / "generations/engines/registry.py") == set()


def test_engines_import_no_models():
    """Staff's catalogue rows reach the engines as plain values (catalog.StaffModel)."""
    seen = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in (ROOT / "generations/engines").rglob("*.py")
        for name in _model_imports(path)
    }
    assert not seen, sorted(seen)
