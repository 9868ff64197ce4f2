"""An in-memory Book for the matching engine: the indexes a database-backed Book keeps in SQL
(invoices by entity, currency, year and sequence; open invoices by customer, oldest first; payer
accounts; learned aliases; customer names), as dictionaries."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from receivables.matching import NumberKey, OpenInvoice, normalize_payer, parse_invoice_number


class FakeBook:
    def __init__(
        self,
        invoices: Iterable[OpenInvoice] = (),
        *,
        names: dict[int, str] | None = None,
        accounts: dict[str, list[int]] | None = None,
        aliases: dict[str, list[int]] | None = None,
        entity_of: dict[int, set[int]] | None = None,
        email_domains: dict[str, list[int]] | None = None,
        groups: list[set[int]] | None = None,
    ) -> None:
        self.email_domains = dict(email_domains or {})
        self.groups = [frozenset(g) for g in (groups or [])]
        self.invoices: dict[int, OpenInvoice] = {}
        self.by_year_seq: dict[tuple, list[OpenInvoice]] = defaultdict(list)
        self.by_seq: dict[tuple, list[OpenInvoice]] = defaultdict(list)
        self.by_customer: dict[tuple, list[OpenInvoice]] = defaultdict(list)
        self.names = dict(names or {})
        self.accounts: dict[str, list[int]] = defaultdict(list)
        for account, ids in (accounts or {}).items():
            self.accounts[self._account(account)] += [i for i in ids if i not in self.accounts[self._account(account)]]
        self.aliases: dict[str, list[int]] = defaultdict(list)
        for alias, ids in (aliases or {}).items():
            self.aliases[normalize_payer(alias)] += [i for i in ids if i not in self.aliases[normalize_payer(alias)]]
        self.customers_of_entity: dict[int, set[int]] = defaultdict(set)
        for entity, ids in (entity_of or {}).items():
            self.customers_of_entity[entity].update(ids)
        self.calls: Counter[str] = Counter()
        self._names_cache: dict[int, list[tuple[int, str]]] = {}
        for inv in invoices:
            self.add(inv)

    @staticmethod
    def _account(account: str) -> str:
        return "".join(account.split()).upper()

    def add(self, inv: OpenInvoice) -> None:
        self.invoices[inv.id] = inv
        parsed = parse_invoice_number(inv.number)
        if parsed:
            _, year, seq = parsed
            self.by_year_seq[(inv.legal_entity_id, inv.currency, year, seq)].append(inv)
            self.by_seq[(inv.legal_entity_id, inv.currency, seq)].append(inv)
        self.by_customer[(inv.customer_id, inv.legal_entity_id, inv.currency)].append(inv)
        self.customers_of_entity[inv.legal_entity_id].add(inv.customer_id)
        self._names_cache.pop(inv.legal_entity_id, None)

    def customers_by_email_domain(self, domain: str) -> list[int]:
        return list(self.email_domains.get(domain, []))

    def group_of(self, customer_id: int) -> frozenset[int]:
        return next((g for g in self.groups if customer_id in g), frozenset({customer_id}))

    def finish(self) -> FakeBook:
        for invoices in self.by_customer.values():
            invoices.sort(key=lambda i: (i.due_date, i.issue_date, i.id))
        return self

    # the Book protocol -------------------------------------------------------------------------

    def invoices_by_numbers(self, legal_entity_id: int, currency: str, candidates: list[NumberKey]) -> list[OpenInvoice]:
        self.calls["invoices_by_numbers"] += 1
        found: dict[int, OpenInvoice] = {}
        for key in candidates:
            if key.year is None:
                rows = self.by_seq.get((legal_entity_id, currency, key.sequence), ())
            else:
                rows = self.by_year_seq.get((legal_entity_id, currency, key.year, key.sequence), ())
            for inv in rows:
                found[inv.id] = inv
        return list(found.values())

    def open_invoices(self, customer_id: int, legal_entity_id: int, currency: str, limit: int = 200) -> list[OpenInvoice]:
        self.calls["open_invoices"] += 1
        rows = self.by_customer.get((customer_id, legal_entity_id, currency), [])
        return sorted(rows, key=lambda i: (i.due_date, i.issue_date, i.id))[:limit]

    def customers_by_account(self, payer_account: str) -> list[int]:
        self.calls["customers_by_account"] += 1
        return list(self.accounts.get(self._account(payer_account), []))

    def customers_by_alias(self, normalized_payer: str) -> list[int]:
        self.calls["customers_by_alias"] += 1
        return list(self.aliases.get(normalized_payer, []))

    def customer_names(self, legal_entity_id: int) -> list[tuple[int, str]]:
        self.calls["customer_names"] += 1
        if legal_entity_id not in self._names_cache:  # a DB-backed Book memoises per batch too
            ids = self.customers_of_entity.get(legal_entity_id, set())
            self._names_cache[legal_entity_id] = sorted((cid, self.names[cid]) for cid in ids if cid in self.names)
        return self._names_cache[legal_entity_id]

    def currency_mismatch(self, customer_id: int, legal_entity_id: int, currency: str) -> bool:
        self.calls["currency_mismatch"] += 1
        mine = [
            key for key, rows in self.by_customer.items()
            if key[0] == customer_id and key[1] == legal_entity_id and rows
        ]
        return bool(mine) and all(key[2] != currency for key in mine)
