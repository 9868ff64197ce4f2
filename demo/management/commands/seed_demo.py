"""Load the realistic demo: users for every role, three legal entities in USD/EUR/GBP with their
charts, periods and FX rates, approval limits, a few hundred customers with contacts, opening
AR balances, contracts in every state with their risk findings, and three closed months of billing
(runs, manual invoices, voids, credit notes and portal uploads in every state; demo/billing.py),
then the bank accounts and three months of imported bank statements with the cash application
specialist's work (demo/receivables.py), and a year of AR aging snapshots with last month's report
pack (demo/aging.py).
Idempotent: a second run leaves an existing demo alone (use --reset)."""

from __future__ import annotations

import logging
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from billing.tax import seed_tax_codes
from customers.models import Customer
from demo.aging import seed_aging, seed_story_invoice
from demo.billing import documents_on_first_download, seed_billing
from demo.collections import seed_collections
from demo.collections_dunning import seed_collections_dunning
from demo.contracts import seed_contracts
from demo.customers import seed_customers
from demo.helpdesk import seed_helpdesk
from demo.ledger import seed_approval_limits, seed_entities, seed_fx_rates, seed_periods
from demo.opening import seed_opening_balances
from demo.receivables import seed_receivables
from demo.reserve import seed_reserve
from demo.users import seed_users
from demo.webhooks import seed_webhooks
from demo.writeoffs import seed_writeoffs
from otc import dates
from otc.roles import ensure_roles

# The smallest demo the suite seeds and checks (tests/otc/test_sortable_lists.py). With 10 the seed
# failed halfway: its corporate groups draw three subsidiaries each from the customers after the
# first eight.
MIN_CUSTOMERS = 20


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300, help=f"At least {MIN_CUSTOMERS}; 300 by default.")
        parser.add_argument("--reset", action="store_true", help="Delete the database and rebuild the demo.")

    def handle(self, *args, customers: int, reset: bool, **options):
        if customers < MIN_CUSTOMERS:
            raise CommandError(f"--customers must be at least {MIN_CUSTOMERS} (the smallest demo the tests build "
                               f"and check); {customers} was given.")
        if reset:
            call_command("flush", "--noinput", verbosity=0)
        ensure_roles()
        users = seed_users()
        if Customer.objects.exists():
            self.stdout.write("Demo data already loaded (use --reset to rebuild).")
            return
        today = dates.today()
        started = mark = time.monotonic()
        timings: list[str] = []

        def lap(name: str) -> None:
            nonlocal mark
            timings.append(f"{name} {time.monotonic() - mark:.1f}s")
            mark = time.monotonic()

        with transaction.atomic():
            entities = seed_entities()
            seed_periods(entities, today=today, controller=users["controller"])
            seed_fx_rates(year=today.year)
            seed_fx_rates(year=today.year - 1)
            seed_approval_limits()
            seed_tax_codes()
            owners = [users["sales1"], users["sales2"], users["sales3"]]
            created = seed_customers(count=customers, owners=owners, by=users["billing"])
            items = seed_opening_balances(today=today, by=users["controller"])
            seed_story_invoice(today=today, by=users["controller"])
        lap("master data")
        # Contracts and billing go through the services, which are durable entry points. Their
        # e-mails (notifications, invoices with their PDFs) are kept in memory rather than printed.
        logging.getLogger("celery").setLevel(logging.WARNING)
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting notices, once per PDF
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), \
                documents_on_first_download():
            contracts = seed_contracts(users=users, today=today, book=max(12, customers // 7))
            lap("contracts")
            billing = seed_billing(users=users, today=today)
            lap("billing")
            cash = seed_receivables(users=users, today=today)
            lap("receivables")
            desk = seed_helpdesk(users=users, today=today)
            lap("help desk")
            aging = seed_aging(today=today)
            lap("aging")
            writeoffs = seed_writeoffs(users=users, today=today)
            lap("write-offs")
            seed_collections(users=users, today=today)  # the collector's month (worklist, disputes, promises)
            lap("collections")
            dunning = seed_collections_dunning(users=users, today=today)  # dunning, credit holds, agency (i10b)
            lap("dunning")
            reserve = seed_reserve(users=users, today=today)
            lap("reserve")
        self.stdout.write(self.style.SUCCESS(
            f"Demo loaded: {len(entities)} legal entities, {len(created)} customers, {items} opening open items, "
            f"contract versions by status: {contracts}."
        ))
        self.stdout.write(self.style.SUCCESS(
            f"Billing: runs {billing['runs']}, invoices {billing['invoices']}, credit notes {billing['credit_notes']}, "
            f"portal uploads {billing['portal_uploads']}."
        ))
        receipts = cash["statement_receipts"]
        self.stdout.write(self.style.SUCCESS(
            f"Receivables: statements imported by format {cash['imports']}, receipts by status {cash['receipts']}, "
            f"{cash['auto_applied']} of {receipts} statement receipts applied automatically "
            f"({100 * cash['auto_applied'] / max(receipts, 1):.0f}%), {cash['reversed']} returned and reversed."
        ))
        self.stdout.write(self.style.SUCCESS(f"Help desk: tickets by status {desk}."))
        hooks = seed_webhooks(admin=users["admin"])
        if hooks["token"]:
            self.stdout.write(self.style.SUCCESS(
                f"Webhooks: API client 'CRM (demo)' subscribed to customer, contract and invoice events, "
                f"{hooks['queued']} of the last week's queued (see /settings/webhooks/).\n"
                f"  token (shown once): {hooks['token']}\n  signing secret: {hooks['secret']}"))
        self.stdout.write(self.style.SUCCESS(
            f"AR aging: {aging['snapshots']} published snapshots ({aging['demo_history']} of them demo history before "
            f"the books start), last month's report pack generated."
        ))
        self.stdout.write(self.style.SUCCESS(f"Dunning: {dunning['runs']} runs, {dunning['letters']} letters (levels "
                                             f"{dunning['levels_sent']} sent), {dunning['holds']} customers on credit "
                                             f"hold, {dunning['placements']} agency placement with a recovery."))
        self.stdout.write(self.style.SUCCESS(f"Write-offs: {writeoffs}."))
        self.stdout.write(self.style.SUCCESS(
            f"Bad-debt reserve: roll rates derived from twelve month-end snapshots, {reserve['posted']} runs as of "
            f"{reserve['month']} posted (Collections > Reserve)."))
        self.stdout.write(f"Seeded in {time.monotonic() - started:.1f}s ({', '.join(timings)}).")
