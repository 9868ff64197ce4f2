"""Dispatch the outbox to webhook subscriptions and send what is due, once (what beat runs every
30 seconds). Useful in the demo and after an outage: `manage.py webhooks_dispatch`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from otc.tasks import webhooks_dispatch


class Command(BaseCommand):
    help = "Fan new outbox events out to webhook subscriptions and send the deliveries that are due."

    def handle(self, *args, **options):
        result = webhooks_dispatch()
        self.stdout.write(f"Events dispatched {result['events']}, delivered {result['sent']}, failed {result['failed']}.")
