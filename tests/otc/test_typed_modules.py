"""Every services and selectors module (the domain's entry points and reads) is type-checked by
mypy in CI (issue 17): a pattern of pyproject.toml's `[tool.mypy] files` names it (mypy expands
them as `glob(recursive=True)` does), so a new module is checked from its first commit."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("billing", "collections_app", "contracts", "customers", "helpdesk", "ledger", "otc", "receivables")


def _services_and_selectors() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            parts = relative.parts
            if "migrations" in parts or "__pycache__" in parts:
                continue
            in_package = any(part in ("services", "selectors") for part in parts[:-1])
            named = path.stem in ("services", "selectors") or path.stem.startswith(("services_", "selectors_"))
            if in_package or named:
                found.add(relative.as_posix())
    return found


def test_every_services_and_selectors_module_is_type_checked():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    matched = {pattern: set(glob.glob(pattern, root_dir=ROOT, recursive=True)) for pattern in patterns}
    modules = _services_and_selectors()
    assert len(modules) >= 80  # the walk finds the packages and the single modules
    assert sorted(modules - set().union(*matched.values())) == [], "no [tool.mypy] files pattern names these"
    assert [pattern for pattern, found in matched.items() if not found] == [], "a pattern names no file"
