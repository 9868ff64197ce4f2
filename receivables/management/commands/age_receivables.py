"""Operators' command for the aging job: take a snapshot now (as of yesterday or a date), resume
a failed run, generate a month's report pack, or register the beat schedules (`--schedule`):
the nightly snapshot at 01:30 and the daily check for the monthly report pack at 07:00."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from otc.errors import DomainError
from otc.schedules import beat_schedule_save

SCHEDULES = {
    "AR aging snapshot (nightly)": ("receivables.aging_snapshot_nightly", "30", "1"),
    "AR report pack (monthly, on the configured business day)": ("receivables.ar_report_monthly", "0", "7"),
}


class Command(BaseCommand):
    help = "Take the AR aging snapshot, resume a run, generate the monthly report pack, or register the beat schedules."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="Snapshot date (default yesterday)")
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="Resume a failed run")
        parser.add_argument("--report-pack", metavar="YYYY-MM", help="Generate (and e-mail) that month's report pack")
        parser.add_argument("--schedule", action="store_true", help="Create or update the beat tasks (idempotent)")

    def handle(self, *args, as_of=None, resume=None, report_pack=None, schedule=False, **options):
        from receivables.aging.reports import ar_report_generate
        from receivables.aging.services import aging_snapshot_resume, aging_snapshot_take

        try:
            if schedule:
                return self._schedule()
            if resume:
                run = aging_snapshot_resume(run_id=resume, by=None)
            elif report_pack:
                pack = ar_report_generate(month=dt.date.fromisoformat(report_pack + "-01"), by=None)
                self.stdout.write(f"{pack}: {len(pack.exceptions)} exceptions.")
                return
            else:
                from otc import dates

                run = aging_snapshot_take(as_of=as_of or dates.today() - dt.timedelta(days=1))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{run}: {run.get_status_display()}, chunks {run.chunks_done}/{run.chunks_total}, "
                          f"{run.lines_written} lines.")

    def _schedule(self) -> None:

        for name, (task_name, minute, hour) in SCHEDULES.items():
            task, created = beat_schedule_save(name=name, task=task_name, minute=minute, hour=hour)
            self.stdout.write(f"{'Created' if created else 'Updated'} '{task.name}': daily at {hour.zfill(2)}:{minute}.")
