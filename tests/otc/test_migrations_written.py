"""Every model change has its migration: `makemigrations --check --dry-run`, run in the test process
(Django is already loaded here; as its own process beside pytest it cost a whole Django start, about
4 s of CPU on a fresh clone, decision 0018 session 15). CI and the README's `bin/test` run it with
the rest of the suite; pre-commit runs the same command on its own."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out, verbosity=1)
    except SystemExit as exit_:
        pytest.fail("A model change has no migration: run .venv/bin/python manage.py makemigrations\n"
                    f"(exit {exit_.code})\n{out.getvalue()}", pytrace=False)
    assert "No changes detected" in out.getvalue()
