"""Every services and selectors module (the domain's entry points and reads) is type-checked by
mypy in CI (issue 17): it is in pyproject.toml's `[tool.mypy] files`, or named below as not yet
clean. A new services or selectors module is added clean; a module fixed is moved from the list to
`files`. The list only shrinks."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("billing", "collections_app", "contracts", "customers", "helpdesk", "ledger", "otc", "receivables")

# Modules whose mypy errors are not fixed yet (session 17: 17 of 85; 245 errors in 47 when counted).
NOT_YET = {
    "billing/selectors.py",
    "billing/services/invoices.py",
    "billing/services/run.py",
    "collections_app/selectors/dunning.py",
    "collections_app/selectors/reserve.py",
    "collections_app/selectors/reserve_reports.py",
    "collections_app/selectors/worklist.py",
    "collections_app/services/agency.py",
    "collections_app/services/disputes.py",
    "collections_app/services/dunning_letters.py",
    "contracts/selectors.py",
    "contracts/services/common.py",
    "contracts/services/lifecycle.py",
    "customers/services/fields.py",
    "ledger/selectors.py",
    "ledger/services/posting.py",
    "receivables/services/batch.py",
}


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


def _checked() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"])


def test_every_services_and_selectors_module_is_type_checked_or_named_as_not_yet():
    modules = _services_and_selectors()
    assert len(modules) >= 80  # the walk finds the packages and the single modules
    assert sorted(modules - _checked() - NOT_YET) == [], "add these to [tool.mypy] files (fix their errors first)"


def test_a_module_not_yet_checked_exists_and_is_not_also_checked():
    modules = _services_and_selectors()
    assert sorted(NOT_YET - modules) == [], "gone: remove them from NOT_YET"
    assert sorted(NOT_YET & _checked()) == [], "checked now: remove them from NOT_YET"
