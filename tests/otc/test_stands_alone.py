"""Issue 16: the project stands alone. Nothing it runs or tests with reads a file outside its own
checkout (a sibling directory beside the repository, or an absolute path on the developer's
machine): the schemas and rule files are vendored in tests/standards with their licences.
No database."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".git", "node_modules", "media", "staticfiles", "__pycache__", "docs"}
# a string literal that starts by leaving the checkout ("../x") or names a machine's absolute
# work directory ("/work/x", "/home/x"), or joins ".." onto a path (path / "..")
OUTSIDE = re.compile(r"[\"'](?:\.\./|/work/|/home/)[A-Za-z]|/\s*[\"']\.\.[\"']")


def _code_files():
    for path in ROOT.rglob("*"):
        if any(part in SKIP for part in path.relative_to(ROOT).parts) or not path.is_file():
            continue
        if path.suffix in {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml"} or path.parent.name == "bin":
            yield path


def test_no_code_or_configuration_reads_outside_the_checkout():
    this = Path(__file__).resolve()
    offenders = [str(path.relative_to(ROOT)) for path in _code_files()
                 if path != this and OUTSIDE.search(path.read_text(errors="ignore"))]
    assert offenders == []


def test_the_standards_the_tests_validate_against_are_vendored_with_their_licences():
    standards = ROOT / "tests" / "standards"
    assert (standards / "LICENSES.md").is_file()
    assert any((standards / "ubl-2.1").rglob("UBL-Invoice-2.1.xsd"))
    assert any((standards / "en16931").rglob("*.xslt")) or any((standards / "en16931").rglob("*.sch"))
