#!/usr/bin/env python3
"""A reference CRM client for otc: Python standard library + requests, nothing else.

It shows what a CRM team builds on the otc API (docs/api.md): upsert the customer by its CRM id,
upsert the closed deal as a contract and submit it for review, follow the contract, its
invoices and their payment status, and receive signed webhooks instead of polling.

    export OTC_URL=http://127.0.0.1:8000 OTC_TOKEN=otc_xxxxxxxx_...
    python docs/crm_client.py deal --entity-id 1 --sku PLAT-STD          # walk a deal
    python docs/crm_client.py listen --secret whsec_... --port 8765      # receive webhooks
    python docs/crm_client.py status --contract-id 42                    # contract + invoices

tests/otc/test_crm_client.py runs it against a live test server, so it stays true to the API.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

SIGNATURE_HEADER = "OTC-Signature"
TOLERANCE_SECONDS = 300


class OtcError(Exception):
    """An API refusal in otc's one error shape: {"error", "message", "fields"}."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.code = status, body.get("error", "error")
        self.message, self.fields = body.get("message", ""), body.get("fields", {})
        super().__init__(f"{status} {self.code}: {self.message}")


class OtcClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30, session: requests.Session | None = None):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.timeout = timeout
        self.http = session or requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def request(self, method: str, path: str, *, body: Any = None, params: dict | None = None,
                retries: int = 3) -> Any:
        """One call. POSTs carry an Idempotency-Key, so a retry after a timeout or a 5xx is safe;
        429 waits as long as Retry-After says."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        for attempt in range(retries + 1):
            try:
                response = self.http.request(method, self.base + path.lstrip("/"), json=body, params=params,
                                             headers=headers, timeout=self.timeout)
            except requests.ConnectionError:
                if attempt == retries:
                    raise
                time.sleep(2 ** attempt)
                continue
            if response.status_code == 429 and attempt < retries:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500 and attempt < retries:
                time.sleep(2 ** attempt)
                continue
            if response.status_code >= 400:
                raise OtcError(response.status_code, _json(response))
            return _json(response) if response.content else None
        raise AssertionError("unreachable")

    # --- customers ---------------------------------------------------------------------------
    def upsert_customer(self, crm_id: str, **fields: Any) -> dict:
        """Create or update the customer the CRM knows as `crm_id` (201 created, 200 updated)."""
        return self.request("POST", "customers/upsert/", body={"external_crm_id": crm_id, **fields})

    # --- contracts ---------------------------------------------------------------------------
    def upsert_contract(self, opportunity_id: str, **fields: Any) -> dict:
        """Create or update the draft contract for a CRM opportunity."""
        return self.request("POST", "contracts/upsert/", body={"crm_opportunity_id": opportunity_id, **fields})

    def submit_contract(self, contract_id: int) -> dict:
        return self.request("POST", f"contracts/{contract_id}/submit/", body={})

    def contract(self, contract_id: int) -> dict:
        return self.request("GET", f"contracts/{contract_id}/")

    # --- invoices and payment status ----------------------------------------------------------
    def invoices(self, **filters: Any) -> list[dict]:
        """Every page of /invoices/ with the given filters (contract=42, status=issued...)."""
        rows, page = [], 1
        while True:
            data = self.request("GET", "invoices/", params={**filters, "page": page, "page_size": 200})
            rows.extend(data["results"])
            if not data.get("next"):
                return rows
            page += 1

    def invoice(self, invoice_id: int) -> dict:
        return self.request("GET", f"invoices/{invoice_id}/")

    # --- webhooks ----------------------------------------------------------------------------
    def subscribe(self, url: str, event_types: list[str], description: str = "") -> dict:
        """Subscribe this client (scope webhooks:manage). The answer's `secret` is shown once."""
        return self.request("POST", "webhooks/subscriptions/",
                            body={"url": url, "event_types": event_types, "description": description})

    def rotate_secret(self, subscription_id: int, overlap_hours: int = 24) -> dict:
        return self.request("POST", f"webhooks/subscriptions/{subscription_id}/rotate-secret/",
                            body={"overlap_hours": overlap_hours})


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": "not_json", "message": response.text[:200]}


# --- webhook signatures -------------------------------------------------------------------------

def verify_signature(header: str, body: bytes, secrets: list[str], *, tolerance: int = TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """True when `header` (`t=<unix time>,v1=<hex>[,v1=<hex>]`) holds an HMAC-SHA256 of
    "<t>.<raw body>" under one of `secrets`, made within `tolerance` seconds.

    Verify the raw bytes as received, before parsing the JSON. Keep both secrets during a
    rotation: otc signs with the new and the old one until the overlap ends."""
    stamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if stamp is None or not signatures or abs((now or time.time()) - stamp) > tolerance:
        return False
    for secret in secrets:
        expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return True
    return False


class WebhookListener:
    """A small receiver: verifies the signature, answers 2xx quickly, drops duplicates by event
    id (delivery is at least once) and hands each new event to `handler`. Production code would
    keep `seen` in its database and do the work in a queue."""

    def __init__(self, secrets: list[str], handler: Callable[[dict], None], *, host: str = "127.0.0.1",
                 port: int = 8765, path: str = "/otc-webhooks") -> None:
        self.secrets, self.handler, self.path = list(secrets), handler, path
        self.seen: set[str] = set()
        self.refused = 0
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = listener.receive(self.path, self.headers.get(SIGNATURE_HEADER, ""), raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def receive(self, path: str, signature: str, raw: bytes) -> int:
        if path != self.path:
            return 404
        if not verify_signature(signature, raw, self.secrets):
            with self._lock:
                self.refused += 1
            return 400
        event = json.loads(raw)
        with self._lock:
            if event["id"] in self.seen:
                return 200  # a retry or replay of something already handled
            self.seen.add(event["id"])
        self.handler(event)
        return 200

    def start(self) -> WebhookListener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the walk of a deal --------------------------------------------------------------------------

def walk_deal(client: OtcClient, *, crm_account_id: str, opportunity_id: str, legal_entity_id: int,
              product_sku: str, start_date: str, monthly_fee: str = "1000.00", currency: str = "EUR",
              log: Callable[[str], None] = print) -> dict:
    """Customer upsert -> contract upsert -> submit. Finance reviews and bills it in otc; follow
    with `deal_status` (or webhooks)."""
    customer = client.upsert_customer(
        crm_account_id, legal_name="Acme Industrie GmbH", country="DE", address_line1="Hauptstrasse 1",
        city="Berlin", postal_code="10115", default_currency=currency,
        contacts=[{"name": "Petra Payable", "email": "ap@acme.example", "is_billing_contact": True}],
    )
    log(f"customer {customer['account_number']} ({customer['external_crm_id']})")
    contract = client.upsert_contract(
        opportunity_id, customer_crm_id=crm_account_id, legal_entity_id=legal_entity_id, title="Platform deal",
        currency=currency, start_date=start_date, payment_terms_days=30,
        lines=[{"product_sku": product_sku, "kind": "recurring", "quantity": "1", "unit_price": monthly_fee}],
    )
    contract = client.submit_contract(contract["id"])
    log(f"contract {contract['number']} submitted: {contract['current_version']['status']}")
    return {"customer": customer, "contract": contract}


def deal_status(client: OtcClient, contract_id: int) -> dict:
    contract = client.contract(contract_id)
    invoices = client.invoices(contract=contract_id)
    return {
        "contract": contract["status"],
        "invoices": [{"number": i["number"], "status": i["status"], "payment_status": i["payment_status"],
                      "gross_total": i["gross_total"], "balance_due": i["balance_due"], "currency": i["currency"]}
                     for i in invoices],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("OTC_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("OTC_TOKEN", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    deal = sub.add_parser("deal", help="upsert a customer and a contract, and submit it")
    deal.add_argument("--entity-id", type=int, required=True)
    deal.add_argument("--sku", required=True)
    deal.add_argument("--start-date", default=time.strftime("%Y-%m-01"))
    deal.add_argument("--account", default="CRM-ACME-1")
    deal.add_argument("--opportunity", default=f"OPP-{uuid.uuid4().hex[:8]}")
    status = sub.add_parser("status", help="a contract's status and its invoices' payment status")
    status.add_argument("--contract-id", type=int, required=True)
    listen = sub.add_parser("listen", help="receive and verify webhooks")
    listen.add_argument("--secret", action="append", default=[], help="repeat during a rotation")
    listen.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)

    if args.command == "listen":
        listener = WebhookListener(args.secret or [os.environ.get("OTC_WEBHOOK_SECRET", "")],
                                   lambda e: print(f"{e['created_at']} {e['type']} {e['subject']}", flush=True),
                                   port=args.port)
        print(f"listening on {listener.url}", flush=True)
        listener.server.serve_forever()
        return 0
    client = OtcClient(args.url, args.token)
    try:
        if args.command == "deal":
            walk_deal(client, crm_account_id=args.account, opportunity_id=args.opportunity,
                      legal_entity_id=args.entity_id, product_sku=args.sku, start_date=args.start_date)
        else:
            print(json.dumps(deal_status(client, args.contract_id), indent=2))
    except OtcError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
