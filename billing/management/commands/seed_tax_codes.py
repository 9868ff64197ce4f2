from django.core.management.base import BaseCommand

from billing.tax import seed_tax_codes


class Command(BaseCommand):
    help = "Create the standard tax codes (EU VAT rates, reverse charge, exempt, export); idempotent."

    def handle(self, *args, **options):
        result = seed_tax_codes()
        self.stdout.write(f"Tax codes created: {result}")
