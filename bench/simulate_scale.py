"""A 1,000,000-contract month-end on N workers, simulated from measured per-chunk costs.

    .venv/bin/python bench/simulate_scale.py                      # idle-machine costs (below)
    .venv/bin/python bench/simulate_scale.py --costs bench/out/billing_costs.json   # the last bench run
    .venv/bin/python bench/simulate_scale.py --contracts 1000000 --entities 1 --db-cores 16

`bench/billing_run.py --workers W [--documents]` writes the costs it measured (median seconds
per chunk of 1,000 from the workers' logs: generation, numbering under the series lock, posting;
publishing per invoice; and the CPU seconds the PostgreSQL backends spent). This script replays
the month as a discrete-event simulation of chunk tasks on N worker processes (and M documents
processes), with three shared resources that stop scaling:

- the number series of each legal entity: a chunk's numbering holds its entity's series row
  (one set-based UPDATE, then commit); numbering of one entity is serial;
- the database: every chunk needs some database CPU (measured); with C cores the database
  serves at most C chunk-seconds per second, however many workers wait on it;
- Redis: one message per chunk (generation, issue, documents): a few thousand messages per
  month-end, against tens of thousands per second Redis serves; it never binds here.

It prints, for each N, the time of generation, issuing and documents, the whole month-end, and
the resource that binds. The model is simple on purpose: it shows where the curve bends, not a
promise of minutes.
"""

from __future__ import annotations

import argparse
import heapq
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# Per-chunk costs on an idle machine, derived from measurements (bench/README.md): issue 18's
# idle 2-core run (2 workers: 2,887 drafts/s generated, 2,645 invoices/s issued, 0.81 drafts
# per contract) split by the share of numbering measured in the workers' logs (1.2 s of 6.2 s
# per chunk, 20%); PDF rendering measured as CPU time (85 ms per invoice with the per-worker
# renderer, against 161 ms before) plus storing and e-mailing; the database share from the
# CPU of the PostgreSQL backends against the workers' during generation and issuing.
# `--costs bench/out/billing_costs.json` replays the last `bench/billing_run.py` run instead
# (its wall times include whatever else ran on the machine).
DEFAULTS = {
    "invoices_per_contract": 0.78,  # issued / contracts (skipped: nothing due this month, held)
    "generate_s": 0.56,             # per chunk of 1,000 contracts, one worker
    "number_s": 0.15,               # per chunk of 1,000 invoices, series lock held
    "post_s": 0.61,                 # per chunk of 1,000 invoices, after numbering
    "publish_s": 0.10,              # per invoice: PDF (85 ms CPU), store, e-mail on a shared connection
    "db_share": 0.35,               # share of a chunk's wall time that is database CPU
}


def load_costs(path: Path) -> dict[str, float]:
    costs = dict(DEFAULTS)
    if not path.exists():
        return costs
    measured = json.loads(path.read_text())
    medians = measured["medians_s"]
    for key, name in (("generate_s", "generate"), ("number_s", "number"), ("post_s", "post"),
                      ("publish_s", "publish_per_invoice")):
        if medians.get(name):
            costs[key] = medians[name]
    if measured.get("invoices") and measured.get("contracts"):
        costs["invoices_per_contract"] = measured["invoices"] / measured["contracts"]
    worker_cpu = sum(measured.get("worker_cpu_run_s") or [])
    if measured.get("database_cpu_run_s") and worker_cpu:
        # the database's share of the CPU that generation and issuing took
        costs["db_share"] = measured["database_cpu_run_s"] / (measured["database_cpu_run_s"] + worker_cpu)
    return costs


def simulate(*, contracts: int, entities: int, workers: int, documents: int, db_cores: float,
             costs: dict[str, float]) -> dict[str, float | str]:
    """Generation chunks, then issue chunks (numbering serial per entity, posting parallel), with
    documents chunks following each issued chunk on the documents processes. Each chunk's
    database share is slowed down when more chunks run than the database has cores."""
    invoices = int(contracts * costs["invoices_per_contract"])
    share = costs["db_share"]

    def stretched(seconds: float, running: int) -> float:
        # The database part of a chunk runs at db_cores / (running chunks' database demand).
        demand = running * share
        slow = max(1.0, demand / db_cores)
        return seconds * ((1 - share) + share * slow)

    gen_chunks = -(-contracts // 1000)
    running = min(workers, gen_chunks)
    gen_time = -(-gen_chunks // workers) * stretched(costs["generate_s"], running)
    gen_bound = "database" if running * share > db_cores else "workers"

    per_entity = -(-invoices // (1000 * entities))
    issue_chunks = per_entity * entities
    series_free = [0.0] * entities  # when each entity's series row is free again
    free: list[float] = [0.0] * workers
    heapq.heapify(free)
    issued_at: list[float] = []
    running = min(workers, issue_chunks)
    waits = 0.0
    for k in range(issue_chunks):
        entity = k % entities
        start = heapq.heappop(free)
        number_start = max(start, series_free[entity])
        waits += number_start - start
        series_free[entity] = number_start + costs["number_s"]
        done = series_free[entity] + stretched(costs["post_s"], running)
        issued_at.append(done)
        heapq.heappush(free, done)
    issue_time = max(issued_at) if issued_at else 0.0
    serial = per_entity * costs["number_s"]
    if serial >= 0.9 * issue_time:
        issue_bound = "series lock"
    elif running * share > db_cores:
        issue_bound = "database"
    else:
        issue_bound = "workers"

    doc_free = [0.0] * documents
    heapq.heapify(doc_free)
    last_mail = 0.0
    chunk_s = 1000 * costs["publish_s"] * (1 + 0.1 * share * max(0.0, documents / db_cores - 1))
    for ready in sorted(issued_at):
        start = max(heapq.heappop(doc_free), gen_time + ready)
        heapq.heappush(doc_free, start + chunk_s)
        last_mail = max(last_mail, start + chunk_s)
    documents_time = last_mail - gen_time - issue_time
    month_end = last_mail
    bound = "documents workers" if documents_time > 0.2 * (gen_time + issue_time) else issue_bound
    return {"invoices": invoices, "generate": gen_time, "issue": issue_time, "documents_after": documents_time,
            "month_end": month_end, "series_wait": waits, "generate_bound": gen_bound, "issue_bound": issue_bound,
            "bound": bound, "redis_messages": gen_chunks + 2 * issue_chunks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=1)
    parser.add_argument("--db-cores", type=float, default=16, help="database server cores")
    parser.add_argument("--documents-per-worker", type=float, default=1.0,
                        help="documents processes per (default-queue) worker process")
    parser.add_argument("--costs", type=Path, help="bench/out/billing_costs.json: the last measured run's costs")
    args = parser.parse_args()
    costs = load_costs(args.costs) if args.costs else dict(DEFAULTS)
    print(f"costs: {', '.join(f'{k}={v:.4g}' for k, v in costs.items())}"
          f" ({'measured: ' + str(args.costs) if args.costs else 'idle-machine defaults in this file'})")
    print(f"{args.contracts:,} contracts, {args.entities} legal entit{'y' if args.entities == 1 else 'ies'}, "
          f"database with {args.db_cores:g} cores\n")
    print(f"{'workers':>7} {'docs':>5} {'generate':>9} {'issue':>8} {'docs after':>10} {'month-end':>10} "
          f"{'invoices/s':>10}  limit")
    for n in (1, 2, 4, 8, 16, 32, 64, 128):
        m = max(1, round(n * args.documents_per_worker))
        r = simulate(contracts=args.contracts, entities=args.entities, workers=n, documents=m,
                     db_cores=args.db_cores, costs=costs)
        print(f"{n:>7} {m:>5} {r['generate'] / 60:>8.1f}m {r['issue'] / 60:>7.1f}m {r['documents_after'] / 60:>9.1f}m "
              f"{r['month_end'] / 60:>9.1f}m {r['invoices'] / r['month_end']:>10,.0f}  "
              f"{r['bound']} (issue: {r['issue_bound']}; generate: {r['generate_bound']})")
    print("\nRedis carries one message per chunk (a few thousand per month-end): never the limit here.")


if __name__ == "__main__":
    main()
