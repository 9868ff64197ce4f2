"""The codebase's own structural rules, checked by reading the source (issue 17, decision 0017).

1. No private name crosses a module boundary. A name that starts with one underscore
   (`_entity_id`, not `__name__`) belongs to the module that defines it. Another project module
   may not import it (`from receivables.aging.api import _entity_id`), reach for it through a
   module (`dunning_letters._record(...)`, `delivery._send = ...`) or fetch it with
   `getattr(module, "_name")`. A module whose own name starts with an underscore
   (`billing/einvoice/_common.py`) is private to its package: its siblings in that folder may
   import it and use its names (`from . import _common as c`; `c.money(...)`), nothing outside.
   Checked over the apps, demo, bench and otc (not tests, not migrations).
2. No test module imports from another test module (`from tests.x.test_y import helper`):
   helpers shared by tests live in tests/factories/ or a conftest.py fixture.

Only the project's own modules count; a third-party private (Django's `_meta`) is another matter.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "migrations", "node_modules", "__pycache__", "tests", "static", "templates", "docs"}

# Known exceptions, each with the reason and where it is fixed. Keep it short: an entry here is a
# debt, not a licence.
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    name: str  # dotted: module.private

    def __str__(self) -> str:
        return f"{self.path}:{self.line} uses {self.name}"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_project_module(dotted: str) -> bool:
    return _module_exists(ROOT, dotted)


@functools.cache
def _module_exists(root: Path, dotted: str) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _package_of(path: Path) -> str:
    """The package a file belongs to (its folder as a dotted name)."""
    return ".".join(path.relative_to(ROOT).parent.parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names."""
    if not node.level:
        return node.module or ""
    package = _package_of(path).split(".")
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def _private_module_part(dotted: str) -> str | None:
    """The package a `_private` module in `dotted` is private to, if any."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[:index])
    return None


def _outside_private_module(importer_package: str, module: str) -> bool:
    """Whether `module` is (inside) a package-private module (`pkg._common`) and the importer is
    outside that package."""
    owner = _private_module_part(module)
    return owner is not None and not (importer_package == owner or importer_package.startswith(owner + "."))


def violations_in(path: Path) -> list[Violation]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    importer = _module_name(path)
    importer_package = _package_of(path) if path.name != "__init__.py" else importer
    rel = path.relative_to(ROOT).as_posix()
    found: list[Violation] = []
    modules: dict[str, str] = {}  # local name -> project module it is bound to

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _is_project_module(alias.name):
                    continue
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
                if _outside_private_module(importer_package, alias.name):
                    found.append(Violation(rel, node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            if not _is_project_module(source):
                continue
            if _outside_private_module(importer_package, source):
                found.append(Violation(rel, node.lineno, source))
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                if _is_project_module(full):  # a submodule
                    modules[alias.asname or alias.name] = full
                    if _outside_private_module(importer_package, full):
                        found.append(Violation(rel, node.lineno, full))
                elif _is_private(alias.name) and source != importer:
                    found.append(Violation(rel, node.lineno, full))

    def dotted(expr: ast.expr) -> str | None:
        """The project module an expression names (`dunning_letters`, `billing.services.delivery`)."""
        if isinstance(expr, ast.Name):
            return modules.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = dotted(expr.value)
            if base is not None and _is_project_module(f"{base}.{expr.attr}"):
                return f"{base}.{expr.attr}"
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            module = dotted(node.value)
            if module is not None and module != importer and not _is_project_module(f"{module}.{node.attr}"):
                found.append(Violation(rel, node.lineno, f"{module}.{node.attr}"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in {"getattr", "setattr", "hasattr", "delattr"} and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _is_private(node.args[1].value)):
            module = dotted(node.args[0])
            if module is not None and module != importer:
                found.append(Violation(rel, node.lineno, f"{module}.{node.args[1].value}"))
    return found


def project_files() -> list[Path]:
    """The project's Python files: the skipped folders are pruned from the walk, not filtered
    after it (a `rglob` also walked every file of .venv, several seconds a call)."""
    files = []
    for folder, dirs, names in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        if here == ROOT:
            names = [n for n in names if n == "manage.py"]
        files.extend(here / name for name in names if name.endswith(".py"))
    return sorted(files)


@functools.cache
def _project_violations() -> tuple[Violation, ...]:
    """Every violation in the project's files, read once for the tests that look at them all."""
    return tuple(v for path in project_files() for v in violations_in(path))


def test_the_walk_reads_the_apps_demo_bench_and_otc():
    names = {p.relative_to(ROOT).parts[0] for p in project_files()}
    assert {"billing", "receivables", "collections_app", "contracts", "customers", "helpdesk", "ledger",
            "otc", "demo", "bench"} <= names
    assert not any("migrations" in p.parts or "tests" in p.relative_to(ROOT).parts for p in project_files())


def test_no_private_name_is_used_across_modules():
    found = _project_violations()
    unexpected = [str(v) for v in found if (v.path, v.name) not in ALLOWED]
    assert unexpected == []


def test_every_allowed_exception_still_exists():
    """An entry whose use is gone must leave the list (so the list only shrinks)."""
    found = {(v.path, v.name) for v in _project_violations()}
    assert ALLOWED - found == set()


def test_the_rule_catches_each_form(tmp_path, monkeypatch):
    """The checker itself: each way of reaching another module's private, and what is allowed."""
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    pkg = tmp_path / "app"
    (pkg / "inner").mkdir(parents=True)
    for name in ("__init__.py", "inner/__init__.py"):
        (pkg / name).write_text("")
    (pkg / "lib.py").write_text("def _hidden():\n    pass\n\n\ndef shown():\n    return _hidden()\n")
    (pkg / "_common.py").write_text("def _deep():\n    pass\n\n\ndef helper():\n    pass\n")
    (pkg / "user.py").write_text(
        "from app.lib import _hidden\n"            # 1: a private name imported
        "from . import lib\n"
        "import app.lib as alias\n"
        "lib._hidden()\n"                           # 4: reached through the module
        "alias._hidden = None\n"                    # 5: monkeypatched
        "getattr(lib, '_hidden')\n"                 # 6: fetched by name
        "from . import _common as c\n"              # allowed: a sibling's package-private module
        "c.helper()\n"
        "c._deep()\n"                               # 9: but not that module's own privates
        "obj = object()\n"
        "obj._meta = 1\n"                           # not a module: not this rule's business
        "from app.lib import shown\n")
    (pkg / "inner" / "deeper.py").write_text("from app._common import helper\n")  # within the package: allowed
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "__init__.py").write_text("")
    (tmp_path / "other" / "outsider.py").write_text("from app import _common\nfrom app._common import helper\n")

    user = sorted((v.line, v.name) for v in violations_in(pkg / "user.py"))
    assert user == [(1, "app.lib._hidden"), (4, "app.lib._hidden"), (5, "app.lib._hidden"),
                    (6, "app.lib._hidden"), (9, "app._common._deep")]
    assert violations_in(pkg / "inner" / "deeper.py") == []
    assert sorted((v.line, v.name) for v in violations_in(tmp_path / "other" / "outsider.py")) == [
        (1, "app._common"), (2, "app._common")]


def _is_test_module(dotted: str) -> bool:
    return dotted.startswith("tests.") and dotted.rsplit(".", 1)[-1].startswith("test_")


def test_imports_in(path: Path) -> list[Violation]:
    """Imports of another test module from a file under tests/."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = _module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if _is_test_module(target) and target != own:
                found.append(Violation(path.relative_to(ROOT).as_posix(), node.lineno, target))
                break
    return found


test_imports_in.__test__ = False  # a helper, not a test


# tests/receivables/test_matching.py is being changed on branch s7-i13 (cash application): its
# helpers (ACME, AUTO, GLOBEX, best, inv, namesakes_book, receipt) move to tests/factories/ after
# that merge, then this entry goes.
ALLOWED_TEST_IMPORTS: set[tuple[str, str]] = set()


def test_no_test_module_imports_from_another():
    files = [p for p in sorted((ROOT / "tests").rglob("*.py")) if "__pycache__" not in p.parts]
    found = {(v.path, v.name): str(v) for path in files for v in test_imports_in(path)}
    assert [text for key, text in found.items() if key not in ALLOWED_TEST_IMPORTS] == []
    assert ALLOWED_TEST_IMPORTS - set(found) == set()  # an entry no longer needed leaves the list
