"""A deploy's one-shot set-up, what the compose `migrate` service runs: `migrate`, then the role
groups and every beat schedule (all idempotent: safe on every deploy), in one process.

Each step is the management command an operator can also run on its own, called here through
`call_command` with the same options, in the order below; the first that fails stops the set-up
(as `&&` did when compose ran them one by one, each a full Django start)."""

from __future__ import annotations

import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

# (command, options): `billing_run --schedule` is ("billing_run", {"schedule": True}).
STEPS: tuple[tuple[str, dict], ...] = (
    ("migrate", {"interactive": False}),
    ("ensure_roles", {}),
    ("contracts_schedule", {}),
    ("webhooks_schedule", {}),
    ("ledger_schedule", {}),
    ("billing_run", {"schedule": True}),
    ("age_receivables", {"schedule": True}),
    ("helpdesk_schedule", {}),
    ("reserve_run", {"schedule": True}),
    ("writeoffs_schedule", {}),
    ("collections_worklist_schedule", {}),
    ("dunning_schedule", {}),
)


def step_text(name: str, options: dict) -> str:
    flags = " ".join(f"--{key.replace('_', '-')}" if value is True else f"--{key.replace('_', '-')}={value}"
                     for key, value in options.items() if key != "interactive")
    return f"manage.py {name}{' --noinput' if options.get('interactive') is False else ''}{' ' + flags if flags else ''}"


class Command(BaseCommand):
    help = ("Set up a deploy in one process: migrate, then the role groups and every beat schedule "
            "(ensure_roles and the *_schedule commands; all idempotent).")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        for name, step_options in STEPS:
            if verbosity:
                self.stdout.write(f"==> {step_text(name, step_options)}")
            # The streams themselves, not self.stdout (a wrapper that would end migrate's "Applying x..." line
            # before its " OK").
            call_command(name, verbosity=verbosity, stdout=options.get("stdout") or sys.stdout,
                         stderr=options.get("stderr") or sys.stderr, **step_options)
