"""What the database does during a run of another bench: wait events, row writes, trigger
functions, MultiXact and lock traffic. A measurement helper (decision 0016, session 13).

    .venv/bin/python bench/db_watch.py otc_s13_bench --stop /tmp/stop &   # start before the run
    ... bench/billing_run.py against otc_s13_bench ...
    touch /tmp/stop                                                       # prints the report

While it runs it polls `pg_stat_activity` every 10 ms and counts, per sample, each backend of
the database that is active: on CPU (no wait event) or waiting (type and event). The pids it
saw are printed (for `perf report --pid`). At the end it reads from the database the rows
written per table (`n_tup_ins`, `n_tup_upd`, `n_tup_hot_upd`), the PL/pgSQL functions' calls
and time (`pg_stat_user_functions`: run the bench with `PGOPTIONS="-c track_functions=pl"`),
and the server-wide SLRU counters' change (MultiXact members and offsets: other databases'
work counts there too). The database is recreated by the run (`--setup-cache`), so its table
and function counters start at zero with the run."""

from __future__ import annotations

import argparse
import collections
import os
import time

import psycopg2

SLRU = "SELECT name, blks_zeroed, blks_hit, blks_read, blks_written FROM pg_stat_slru"


def _connect(dbname: str):  # noqa: ANN202 - a psycopg2 connection
    conn = psycopg2.connect(dbname=dbname, user="postgres", host="127.0.0.1", port=5432)
    conn.autocommit = True
    return conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database")
    parser.add_argument("--stop", required=True, help="stop and report when this file exists")
    parser.add_argument("--interval", type=float, default=0.01)
    args = parser.parse_args()
    admin = _connect("postgres")
    cur = admin.cursor()
    cur.execute(SLRU)
    slru_before = {row[0]: row[1:] for row in cur.fetchall()}
    waits: collections.Counter = collections.Counter()
    pids: set[int] = set()
    samples = busy = 0
    while not os.path.exists(args.stop):
        cur.execute("SELECT pid, wait_event_type, wait_event, backend_type FROM pg_stat_activity "
                    "WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()", [args.database])
        rows = cur.fetchall()
        samples += 1
        for pid, wtype, wevent, _ in rows:
            pids.add(pid)
            waits[f"{wtype}:{wevent}" if wtype else "CPU"] += 1
        busy += bool(rows)
        time.sleep(args.interval)
    cur.execute(SLRU)
    slru_after = {row[0]: row[1:] for row in cur.fetchall()}
    print(f"samples {samples}, with an active backend {busy}; pids {','.join(map(str, sorted(pids)))}")
    total = sum(waits.values()) or 1
    for key, n in waits.most_common(25):
        print(f"  {key:<40} {n:7d}  {100 * n / total:5.1f}%")
    print("SLRU change (zeroed, hit, read, written), server-wide:")
    for name, after in slru_after.items():
        delta = [a - b for a, b in zip(after, slru_before.get(name, (0, 0, 0, 0)), strict=True)]
        if any(delta):
            print(f"  {name:<18} {delta}")
    db = _connect(args.database).cursor()
    db.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables "
               "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins + n_tup_upd DESC")
    print("rows written (ins, upd, hot upd, del):")
    for row in db.fetchall():
        print(f"  {row[0]:<40} {row[1]:8d} {row[2]:8d} {row[3]:8d} {row[4]:8d}")
    db.execute("SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions ORDER BY total_time DESC")
    print("functions (calls, total ms, self ms):")
    for row in db.fetchall():
        print(f"  {row[0]:<40} {row[1]:8d} {row[2]:10.1f} {row[3]:10.1f}")
    db.execute("SELECT xact_commit, xact_rollback, deadlocks, tup_inserted, tup_updated FROM pg_stat_database "
               "WHERE datname = current_database()")
    print("database (commits, rollbacks, deadlocks, inserted, updated):", db.fetchone())


if __name__ == "__main__":
    main()
