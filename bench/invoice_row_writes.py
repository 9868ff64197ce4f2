"""Backend CPU of writing month-end invoice rows, with the invoice's one-to-one references under
full unique indexes (as before decision 0016's third pass) and under partial ones (as now).

Two copies of `billing_invoice` (its columns, checks and indexes; no foreign keys or triggers)
in the database DATABASE_URL points at (migrated; default: otc_bench), N drafts inserted,
numbered and issued in UPDATEs of 1,000 rows, as the run writes them; the copies alternate,
three rounds. Drops the copies afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc_bench .venv/bin/python bench/invoice_row_writes.py [N]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.backend import connect  # noqa: E402

REFERENCES = ("journal_entry_id", "open_item_id", "void_entry_id", "void_credit_note_id")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16000
    conn, cur, cpu = connect()

    for table in ("bench_invoice_full", "bench_invoice_partial"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (LIKE billing_invoice INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                    f"INCLUDING INDEXES)")
        for column in REFERENCES:
            cur.execute(f"DROP INDEX IF EXISTS {table}_{column}_idx")
            where = "" if table.endswith("full") else f" WHERE {column} IS NOT NULL"
            cur.execute(f"CREATE UNIQUE INDEX ON {table} ({column}){where}")
    conn.commit()
    try:
        for _ in range(3):
            for table in ("bench_invoice_full", "bench_invoice_partial"):
                cur.execute(f"TRUNCATE {table}")
                conn.commit()
                start = cpu()
                cur.execute(f"""INSERT INTO {table} (id, currency, number, status, on_hold, hold_reason,
                    payment_terms_days, po_number, net_total, tax_total, gross_total, amount_credited, amount_paid,
                    bill_to, seller, notes, pdf, pdf_sha256, created_at, updated_at, void_reason, customer_id,
                    legal_entity_id, void_pdf, void_pdf_sha256, amount_written_off, journal_number, contract_id,
                    billing_period_start, billing_run_id)
                    SELECT g, 'EUR', '', 'draft', false, '', 30, '', 100, 19, 119, 0, 0, '{{}}', '{{}}', '', '', '',
                    now(), now(), '', g %% 4000, 1 + g %% 3, '', '', 0, '', g, date '2026-11-01', 1
                    FROM generate_series(1, %s) g""", [n])
                conn.commit()
                inserted = cpu()
                for first in range(1, n + 1, 1000):
                    cur.execute(f"UPDATE {table} SET number = 'INV-' || id, journal_number = 'JE-' || id, "
                                f"issue_date = date '2026-11-30', updated_at = now() WHERE id BETWEEN %s AND %s",
                                [first, first + 999])
                    conn.commit()
                numbered = cpu()
                for first in range(1, n + 1, 1000):
                    cur.execute(f"""UPDATE {table} SET status = 'issued', journal_entry_id = id, open_item_id = id,
                        due_date = date '2026-12-30', bill_to = '{{"name": "A customer GmbH"}}',
                        seller = '{{"name": "Seller"}}', issued_at = now(), updated_at = now()
                        WHERE id BETWEEN %s AND %s""", [first, first + 999])
                    conn.commit()
                issued = cpu()
                load = open("/proc/loadavg").read().split()[:3]  # noqa: SIM115
                print(f"{table:<22} insert {inserted - start:5.2f}  number {numbered - inserted:5.2f}  "
                      f"issued {issued - numbered:5.2f}  total {issued - start:5.2f} s backend CPU for {n:,} "
                      f"rows; load {' '.join(load)}", flush=True)
    finally:
        conn.rollback()
        cur.execute("DROP TABLE IF EXISTS bench_invoice_full, bench_invoice_partial")
        conn.commit()


if __name__ == "__main__":
    main()
