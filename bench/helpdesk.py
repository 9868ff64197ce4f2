"""Help-desk benchmark: queue pages with N tickets (default 100,000). Not a test: it prints figures.

    .venv/bin/python bench/helpdesk.py                      # otc_bench_helpdesk on the local PostgreSQL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc_x .venv/bin/python bench/helpdesk.py --tickets 20000

It migrates the database it is pointed at and DELETES its contents first; point it at a database
of its own. Tickets are bulk-created (COPY-like batches) across three entities' queues and three
reps' customers, in every status, with SLA columns filled; then the agent's queue page (default
filter, "mine", "breached", a search, page 50), the rep's "My tickets", the ticket page and
`GET /api/v1/tickets/` are timed (p50/p95 over 40 runs each) and their query counts printed."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_helpdesk")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.foundation import ensure_database  # noqa: E402
from demo.customers import seed_customers  # noqa: E402
from demo.helpdesk import seed_setup  # noqa: E402
from demo.ledger import seed_entities  # noqa: E402
from demo.users import seed_users  # noqa: E402
from helpdesk.models import Category, Queue, Ticket, TicketEvent  # noqa: E402
from helpdesk.services.tickets import ROUTES  # noqa: E402
from otc.models import User  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402

STATUSES = ["new", "open", "waiting_requester", "waiting_customer", "resolved", "closed"]


def build(tickets: int) -> dict:
    call_command("migrate", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    ensure_roles()
    users = seed_users()
    entities = seed_entities()
    reps = [users["sales1"], users["sales2"], users["sales3"]]
    customers = seed_customers(count=300, owners=reps, by=users["billing"])
    seed_setup(users=users, today=dt.date.today())
    queues = {(q.legal_entity_id, q.kind): q for q in Queue.objects.all()}
    r = random.Random(42)
    now = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    batch: list[Ticket] = []
    categories = list(Category.values)
    for n in range(1, tickets + 1):
        customer = customers[n % len(customers)]
        category = categories[n % len(categories)]
        entity = entities[n % len(entities)]
        status = r.choices(STATUSES, weights=[5, 10, 4, 4, 20, 57])[0]
        created = now - dt.timedelta(minutes=r.randint(10, 60 * 24 * 365))
        active = status in Ticket.ACTIVE
        batch.append(Ticket(
            reference=f"HD-{n:06d}", legal_entity=entity, queue=queues[(entity.pk, str(ROUTES[category]))],
            category=category, priority=r.choice(["low", "normal", "high", "urgent"]), status=status,
            subject=f"Question {n} about {customer.legal_name}", description="Bench ticket", customer=customer,
            requester=customer.sales_owner or reps[n % 3], created_by=customer.sales_owner or reps[n % 3],
            created_at=created,
            assignee=users["helpdesk"] if n % 3 else None,
            resolution_due=created + dt.timedelta(hours=r.randint(1, 96)) if active else None,
            sla_state=r.choice(["running", "warning", "breached", "paused"]) if active else "met",
            first_response_minutes=r.randint(5, 900) if not active else None,
            resolution_minutes=r.randint(30, 5000) if not active else None,
            sla_first_response_met=r.random() < 0.85 if not active else None,
            sla_resolution_met=r.random() < 0.8 if not active else None,
        ))
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)
    ids = list(Ticket.objects.values_list("pk", "created_at"))
    TicketEvent.objects.bulk_create([TicketEvent(ticket_id=pk, kind="created", to_value="normal", at=at)
                                     for pk, at in ids], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{'created tickets (bulk)':<58} {tickets:>8,} in {time.perf_counter() - start:6.1f} s")
    return {"users": users}


def latency(label: str, client, url: str, runs: int = 40) -> None:
    client.get(url)  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    samples.sort()
    p95 = samples[max(int(len(samples) * 0.95) - 1, 0)]
    print(f"{label:<58} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   {len(ctx.captured_queries)} queries")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="Time the pages on the tickets already there")
    args = parser.parse_args()
    ensure_database()
    if args.reuse and Ticket.objects.exists():
        users = {u.username: u for u in User.objects.filter(username__in=["helpdesk", "sales1"])}
    else:
        users = build(args.tickets)["users"]
    agent, rep = Client(), Client()
    agent.force_login(users["helpdesk"])
    rep.force_login(users["sales1"])
    one = Ticket.objects.filter(status="open").order_by("pk").first()
    latency("agent queue page (active, by due date)", agent, "/helpdesk/")
    latency("agent queue page, mine", agent, "/helpdesk/?scope=mine")
    latency("agent queue page, due soon or breached", agent, "/helpdesk/?scope=breached")
    latency("agent queue page, page 50 of all statuses", agent, "/helpdesk/?status=all&page=50")
    latency("agent queue search (customer name)", agent, "/helpdesk/?q=GmbH")
    latency("rep: my tickets", rep, "/helpdesk/")
    latency("ticket page", agent, f"/helpdesk/t/{one.reference}/")
    latency("dashboard (My queue panel)", agent, "/")
    api = APIClient()
    api.force_authenticate(users["helpdesk"])
    latency("GET /api/v1/tickets/", api, "/api/v1/tickets/")
    print(f"{'tickets in the database':<58} {Ticket.objects.count():>8,}")


if __name__ == "__main__":
    main()
