"""Backend CPU of issuing month-end invoice rows in two transactions, the two ways (decision
0016, session 10): "old" locks a chunk's 1,000 drafts and UPDATEs their numbers, then locks them
again and UPDATEs them issued; "new" locks them and records one narrow block row (the numbers),
then locks the block, UPDATEs each row once (numbers and issued state) and deletes the block.
A copy of `billing_invoice` (columns, checks, indexes; no foreign keys or triggers) in the
database DATABASE_URL points at (migrated; default: otc_bench); N rows, rounds alternated. Drops
the copies afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc_bench .venv/bin/python bench/invoice_one_write.py [N] [ROUNDS]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.backend import connect  # noqa: E402

INSERT = """INSERT INTO bench_invoice_1w (id, currency, number, status, on_hold, hold_reason,
    payment_terms_days, po_number, net_total, tax_total, gross_total, amount_credited, amount_paid,
    bill_to, seller, notes, pdf, pdf_sha256, created_at, updated_at, void_reason, customer_id,
    legal_entity_id, void_pdf, void_pdf_sha256, amount_written_off, journal_number, contract_id,
    billing_period_start, billing_run_id)
    SELECT g, 'EUR', '', 'draft', false, '', 30, '', 100, 19, 119, 0, 0, '{}', '{}', '', '', '',
    now(), now(), '', g %% 4000, 1 + g %% 3, '', '', 0, '', g, date '2026-11-01', 1
    FROM generate_series(1, %s) g"""
ISSUED = """status = 'issued', journal_entry_id = id, open_item_id = id, due_date = date '2026-12-30',
    bill_to = '{"name": "A customer GmbH"}', seller = '{"name": "Seller"}', issued_at = now(), updated_at = now()"""
NUMBERS = "number = 'INV-' || id, journal_number = 'JE-' || id, issue_date = date '2026-11-30'"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    conn, cur, cpu = connect()

    def chunk(mode: str, first: int, last: int) -> None:
        cur.execute("SELECT * FROM bench_invoice_1w WHERE id BETWEEN %s AND %s ORDER BY id FOR UPDATE", [first, last])
        cur.fetchall()
        if mode == "old":  # numbering: the drafts' rows
            cur.execute(f"UPDATE bench_invoice_1w SET {NUMBERS}, updated_at = now() WHERE id BETWEEN %s AND %s",
                        [first, last])
        else:  # numbering: one block row
            rows = [[i, f"INV-{i}", f"JE-{i}"] for i in range(first, last + 1)]
            cur.execute("INSERT INTO bench_numberblock_1w (rows, first_id, last_id) VALUES (%s, %s, %s) RETURNING id",
                        [json.dumps(rows), first, last])
            block = cur.fetchone()[0]
        conn.commit()
        if mode == "old":  # posting: lock the drafts again, one more UPDATE
            cur.execute("SELECT id, status, number, on_hold, updated_at FROM bench_invoice_1w "
                        "WHERE id BETWEEN %s AND %s ORDER BY id FOR UPDATE", [first, last])
            cur.fetchall()
            cur.execute(f"UPDATE bench_invoice_1w SET {ISSUED} WHERE id BETWEEN %s AND %s", [first, last])
        else:  # posting: lock the block, one UPDATE with the numbers, delete the block
            cur.execute("SELECT rows FROM bench_numberblock_1w WHERE id = %s FOR UPDATE", [block])
            cur.fetchall()
            cur.execute(f"UPDATE bench_invoice_1w SET {ISSUED}, {NUMBERS} WHERE id BETWEEN %s AND %s", [first, last])
            cur.execute("DELETE FROM bench_numberblock_1w WHERE id = %s", [block])
        conn.commit()

    cur.execute("DROP TABLE IF EXISTS bench_invoice_1w, bench_numberblock_1w")
    cur.execute("CREATE TABLE bench_invoice_1w (LIKE billing_invoice INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                "INCLUDING INDEXES)")
    cur.execute("CREATE TABLE bench_numberblock_1w (id bigserial PRIMARY KEY, rows jsonb, first_id bigint, "
                "last_id bigint)")
    conn.commit()
    try:
        for r in range(rounds):
            for mode in ("old", "new") if r % 2 == 0 else ("new", "old"):
                cur.execute("TRUNCATE bench_invoice_1w, bench_numberblock_1w")
                cur.execute(INSERT, [n])
                conn.commit()
                start = cpu()
                for first in range(1, n + 1, 1000):
                    chunk(mode, first, min(first + 999, n))
                load = open("/proc/loadavg").read().split()[:3]  # noqa: SIM115
                print(f"{mode}: {cpu() - start:5.2f} s backend CPU to number and issue {n:,} rows; "
                      f"load {' '.join(load)}", flush=True)
    finally:
        conn.rollback()
        cur.execute("DROP TABLE IF EXISTS bench_invoice_1w, bench_numberblock_1w")
        conn.commit()


if __name__ == "__main__":
    main()
