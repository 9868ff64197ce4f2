"""Run the daily contract lifecycle now: activate approved versions whose date has come, then
expire (or auto-renew) ended contracts. Idempotent; beat runs the same via `contracts.daily`."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from contracts.services import contracts_activate_due, contracts_expire_due


class Command(BaseCommand):
    help = "Activate due contract versions and expire or renew ended contracts."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Run as of this day (YYYY-MM-DD)")

    def handle(self, *args, date=None, **options):
        activated = contracts_activate_due(today=date)
        expired = contracts_expire_due(today=date)
        self.stdout.write(f"Activated {activated}; expired or renewed {expired}.")
