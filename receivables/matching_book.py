"""The matching engine's view of the database: a `Book` (receivables.matching.types) answering
from open invoices, learned payer aliases and customer names, with per-batch caches so a statement
of thousands of receipts asks each question once."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import F

from billing.models import Invoice
from ledger.models import Account, LegalEntity, OpenItem
from otc import dates
from otc.bulk import collector_paused
from otc.money import minor_units
from receivables.matching import NumberKey, OpenInvoice
from receivables.models import PayerAlias

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
YEARS_BACK = 2  # "INV 123" without a year: this year's and the two before


def _open_invoices():
    return (Invoice.objects.filter(status__in=OPEN)
            .annotate(open_amount=F("gross_total") - F("amount_credited") - F("amount_paid") - F("amount_written_off"))
            .filter(open_amount__gt=0))


FIELDS = ("id", "number", "customer_id", "legal_entity_id", "currency", "gross_total", "amount_credited",
          "amount_paid", "amount_written_off", "due_date", "issue_date")


def _year_and_sequence(number: str) -> tuple[int, int] | None:
    """(year, sequence) of one of our invoice numbers, as `parse_invoice_number` reads it (fast path
    for ``<prefix>-<year>-<sequence>``)."""
    head, _, seq = number.rpartition("-")
    year = head[-4:]
    if seq.isascii() and seq.isdigit() and len(seq) <= 7 and year.isascii() and year.isdigit() and year[:2] in ("19", "20") and head[-5:-4] in ("-", ""):
        return int(year), int(seq)
    from receivables.matching import parse_invoice_number

    parsed = parse_invoice_number(number)
    return (parsed[1], parsed[2]) if parsed else None


def _row(values: tuple) -> OpenInvoice:
    """An `OpenInvoice` from a `values_list(*FIELDS)` row."""
    pk, number, customer_id, entity_id, currency, gross, credited, paid, written_off, due, issued = values
    return OpenInvoice(id=pk, number=number, customer_id=customer_id, legal_entity_id=entity_id, currency=currency,
                       open_amount=gross - credited - paid - written_off, gross_total=gross, due_date=due,
                       issue_date=issued)


# The preloaded book's query: open invoices of some entities, the open amount computed and filtered
# by the database. Not ordered here: sorting 200,000 rows cost the database more than Python. The
# amounts come as text, made Decimals (exactly as the driver would) only for the invoices a receipt
# looks at (`_book_row`): the driver's Decimals were a third of reading the rows.
_BOOK_SQL = """
SELECT id, number, customer_id, legal_entity_id, currency,
       (gross_total - amount_credited - amount_paid - amount_written_off)::text,
       gross_total::text, due_date, issue_date
FROM %(table)s
WHERE status IN (%%s, %%s) AND legal_entity_id = ANY(%%s) AND gross_total - amount_credited - amount_paid - amount_written_off > 0
"""
_AGE = operator.itemgetter(7, 8, 0)  # due date, issue date, id: the order the engine reads a customer's invoices


def _book_rows(legal_entity_ids: list[int]) -> list[tuple]:
    """Rows of `_BOOK_SQL` by due date, issue date and id: (id, number, customer, entity, currency,
    open amount, gross total, due date, issue date); the amounts as text or Decimals."""
    from django.db import connections, router

    connection = connections[router.db_for_read(Invoice)]
    if connection.vendor != "postgresql":  # SQLite (tests): the same rows through the ORM, in exact Decimals
        rows = (Invoice.objects.filter(status__in=OPEN, legal_entity_id__in=legal_entity_ids)
                .values_list(*FIELDS).order_by("due_date", "issue_date", "pk"))
        return [(pk, number, customer, entity, currency, gross - credited - paid - written_off, gross, due, issued)
                for pk, number, customer, entity, currency, gross, credited, paid, written_off, due, issued in rows
                if gross - credited - paid - written_off > 0]
    with connection.cursor() as cursor:
        cursor.execute(_BOOK_SQL % {"table": connection.ops.quote_name(Invoice._meta.db_table)},
                       [*OPEN, list(legal_entity_ids)])
        rows = cursor.fetchall()
    rows.sort(key=_AGE)
    return rows


def _book_row(values: tuple) -> OpenInvoice:
    """An `OpenInvoice` from a `_book_rows` row, its open amount in the currency's minor unit when
    that is exact (stored with four places: the engine's `clean_invoices` would otherwise copy the
    invoice to quantize it every time a receipt looks at it)."""
    pk, number, customer_id, entity_id, currency, open_amount, gross, due, issued = values
    return OpenInvoice(id=pk, number=number, customer_id=customer_id, legal_entity_id=entity_id, currency=currency,
                       open_amount=_in_minor_unit(Decimal(open_amount), currency), gross_total=Decimal(gross),
                       due_date=due, issue_date=issued)


_MINOR_UNIT: dict[str, Decimal | None] = {}


def _in_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """`amount` with the currency's minor unit as exponent if that changes nothing but the exponent."""
    unit = _MINOR_UNIT.get(currency, Decimal(0))
    if unit == 0:  # not seen yet (a unit is never 0)
        try:
            unit = Decimal(1).scaleb(-minor_units(currency))
        except Exception:  # an unknown currency: left as it is (the engine skips it anyway)
            unit = None
        _MINOR_UNIT[currency] = unit
    if unit is None:
        return amount
    short = amount.quantize(unit)
    return short if short == amount else amount


ITEM_FIELDS = ("id", "document_number", "customer_id", "legal_entity_id", "currency", "original_amount",
               "open_amount", "due_date", "document_date")
_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9/_.-]{3,59}")


def _open_items():
    """AR open items without an invoice that still ask for money: opening balances migrated from the
    previous system, manual debits. Their engine id is the negative open item id (an allocation to
    ``-id`` pays the open item ``id``; receivables.services.receipts.payable_items)."""
    return (OpenItem.objects.filter(account__role=Account.Role.AR, open_amount__gt=0)
            .exclude(document_type="invoice"))


def _item_row(values: tuple) -> OpenInvoice:
    pk, number, customer_id, entity_id, currency, original, open_amount, due, dated = values
    return OpenInvoice(id=-pk, number=number, customer_id=customer_id, legal_entity_id=entity_id, currency=currency,
                       open_amount=open_amount, gross_total=original, due_date=due, issue_date=dated)


def document_tokens(text: str) -> set[str]:
    """Words of a remittance that may be a document number written as it is ("LEG-C00042-1")."""
    return {token.strip("./-_") for token in _TOKEN.findall((text or "").upper()) if any(c.isdigit() for c in token)}


class DbBook:
    """A `Book` over the database. One instance per batch: names and aliases are cached."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dates.today()
        self._prefixes = dict(LegalEntity.objects.values_list("pk", "invoice_prefix"))
        self._names: dict[int, list[tuple[int, str]]] = {}
        self._aliases: dict[tuple[str, str], list[int]] | None = None
        self._domains: dict[str, list[int]] | None = None
        self._parents: dict[int, int] | None = None
        self._item_numbers: set[str] | None = None
        self.consumed: dict[int, Decimal] = defaultdict(Decimal)

    def invoices_by_numbers(self, legal_entity_id: int, currency: str, candidates: list[NumberKey]) -> list[OpenInvoice]:
        prefix = self._prefixes.get(legal_entity_id, "")
        numbers = set()
        for key in candidates:
            years = [key.year] if key.year else range(self.today.year - YEARS_BACK, self.today.year + 1)
            numbers.update(f"{prefix}-{year}-{key.sequence:06d}" for year in years)
        if not numbers:
            return []
        rows = (_open_invoices().filter(legal_entity_id=legal_entity_id, currency=currency, number__in=numbers)
                .order_by("due_date", "pk").values_list(*FIELDS))
        return self._rows(rows)

    def open_invoices(self, customer_id: int, legal_entity_id: int, currency: str, limit: int = 200) -> list[OpenInvoice]:
        rows = (_open_invoices().filter(customer_id=customer_id, legal_entity_id=legal_entity_id, currency=currency)
                .order_by("due_date", "pk").values_list(*FIELDS)[:limit])
        items = (_open_items().filter(customer_id=customer_id, legal_entity_id=legal_entity_id, currency=currency)
                 .order_by("due_date", "pk").values_list(*ITEM_FIELDS)[:limit])
        found = self._rows(rows) + self._rows(items, _item_row)
        return sorted(found, key=lambda i: (i.due_date, i.issue_date, i.id))[:limit]

    def items_by_text(self, legal_entity_id: int, currency: str, text: str) -> list[OpenInvoice]:
        """Open items without invoices whose document number the remittance writes as it is."""
        if self._item_numbers is None:  # few (opening balances): known once per batch, asked only on a hit
            self._item_numbers = {number.upper() for number in _open_items().values_list("document_number", flat=True)}
        tokens = document_tokens(text) & self._item_numbers
        if not tokens:
            return []
        rows = (_open_items().filter(legal_entity_id=legal_entity_id, currency=currency, document_number__in=tokens)
                .order_by("due_date", "pk").values_list(*ITEM_FIELDS))
        return self._rows(rows, _item_row)

    def _alias(self, kind: str, value: str) -> list[int]:
        if self._aliases is None:
            self._aliases = defaultdict(list)
            for k, v, customer_id in PayerAlias.objects.values_list("kind", "value", "customer_id").order_by("pk"):
                if customer_id not in self._aliases[k, v]:
                    self._aliases[k, v].append(customer_id)
        return list(self._aliases.get((kind, value), []))

    def customers_by_account(self, payer_account: str) -> list[int]:
        return self._alias(PayerAlias.Kind.ACCOUNT, payer_account) if payer_account else []

    def customers_by_alias(self, normalized_payer: str) -> list[int]:
        return self._alias(PayerAlias.Kind.NAME, normalized_payer) if normalized_payer else []

    def customer_names(self, legal_entity_id: int) -> list[tuple[int, str]]:
        if legal_entity_id not in self._names:
            # every customer with something in the entity's subledger (invoices, opening balances, cash)
            from customers.models import Customer

            ids = OpenItem.objects.filter(legal_entity_id=legal_entity_id).values("customer_id")
            self._names[legal_entity_id] = list(
                Customer.objects.filter(pk__in=ids).values_list("pk", "legal_name").order_by("pk"))
        return self._names[legal_entity_id]

    def customers_by_email_domain(self, domain: str) -> list[int]:
        """Customers with a contact e-mail address at `domain` (remittance advices come from AP)."""
        if self._domains is None:
            from customers.models import Contact

            self._domains = defaultdict(list)
            for customer_id, email in Contact.objects.exclude(email="").values_list("customer_id", "email").order_by("pk"):
                key = email.rpartition("@")[2].lower()
                if customer_id not in self._domains[key]:
                    self._domains[key].append(customer_id)
        return list(self._domains.get(domain.lower(), []))

    def group_of(self, customer_id: int) -> frozenset[int]:
        """The customer's corporate group: everyone under the same top parent (customers.parent)."""
        if self._parents is None:
            from customers.models import Customer

            self._parents = dict(Customer.objects.filter(parent__isnull=False).values_list("pk", "parent_id"))
            self._groups: dict[int, set[int]] = defaultdict(set)
            for child in self._parents:
                self._groups[self._top(child)].add(child)
        top = self._top(customer_id)
        return frozenset({top, *self._groups.get(top, ())}) if top in self._groups else frozenset({customer_id})

    def _top(self, customer_id: int) -> int:
        seen = set()
        assert self._parents is not None
        while customer_id in self._parents and customer_id not in seen:
            seen.add(customer_id)
            customer_id = self._parents[customer_id]
        return customer_id

    def currency_mismatch(self, customer_id: int, legal_entity_id: int, currency: str) -> bool:
        rows = _open_invoices().filter(customer_id=customer_id, legal_entity_id=legal_entity_id)
        return rows.exists() and not rows.filter(currency=currency).exists()

    def consume(self, allocations: list[tuple[int, Decimal]]) -> None:
        """Remember what this batch's earlier decisions take (applied after the whole batch)."""
        for invoice_id, amount in allocations:
            self.consumed[invoice_id] += amount

    def _rows(self, values, make=_row) -> list[OpenInvoice]:
        rows = []
        for value in values:
            row = make(value)
            taken = self.consumed.get(row.id)
            if taken:
                if row.open_amount - taken <= 0:
                    continue
                row = OpenInvoice(**{**row.__dict__, "open_amount": row.open_amount - taken})
            rows.append(row)
        return rows



class PreloadedBook:
    """A `Book` holding the open invoices of some legal entities in memory, for a batch of
    thousands of receipts (one query instead of several per receipt). `consume` takes what a
    decision applies off the invoices, so later receipts of the batch see the balances left."""

    def __init__(self, legal_entity_ids: set[int], today: dt.date | None = None) -> None:
        self.today = today or dates.today()
        self.legal_entity_ids = set(legal_entity_ids)
        # Hundreds of thousands of new tuples and lists and not one reference cycle: the cyclic garbage
        # collector, run every 700 allocations over a growing heap, cost a third of the build.
        with collector_paused():
            self._load(legal_entity_ids)
        self._db = DbBook(today=self.today)
        self._names: dict[int, list[tuple[int, str]]] = {}

    def _load(self, legal_entity_ids: set[int]) -> None:
        # rows as read (`_BOOK_SQL`'s columns); an `OpenInvoice` is built only for the few a receipt
        # looks at. One plain query, the open amount computed and filtered by the database, the rows
        # fetched at once (no server-side cursor): a 200,000-invoice book in about a second.
        self.rows: dict[int, tuple] = {}
        self.invoices: dict[int, OpenInvoice] = {}
        # per (entity, currency), as almost every row of a book shares one: {(year, sequence): ids},
        # {sequence: ids}, {customer: ids}, so that a row costs no key tuple of its own
        self.by_year_seq: dict[tuple[int, str], defaultdict[tuple[int, int], list[int]]] = {}
        self.by_seq: dict[tuple[int, str], defaultdict[int, list[int]]] = {}
        self.by_customer: dict[tuple[int, str], defaultdict[int, list[int]]] = {}
        self.currencies: dict[tuple[int, int], set[str]] = defaultdict(set)
        rows_by_pk = self.rows
        entity = currency = None
        year_seqs = seqs = customers = defaultdict(list)  # replaced at the first row
        for values in _book_rows(sorted(legal_entity_ids)):
            pk = values[0]
            rows_by_pk[pk] = values
            if values[3] != entity or values[4] != currency:
                entity, currency = values[3], values[4]
                year_seqs, seqs, customers = self._part(entity, currency)
            year_seq = _year_and_sequence(values[1])
            if year_seq:
                year_seqs[year_seq].append(pk)
                seqs[year_seq[1]].append(pk)
            customers[values[2]].append(pk)
        self.by_document: dict[tuple, list[int]] = defaultdict(list)
        mixed = set()  # the customers' lists an item joined: sorted again by age (the others are in SQL order)
        for values in (_open_items().filter(legal_entity_id__in=legal_entity_ids).values_list(*ITEM_FIELDS)
                       .order_by("due_date", "document_date", "pk")):
            item = _item_row(values)
            self.invoices[item.id] = item
            self.by_document[item.legal_entity_id, item.currency, item.number.upper()].append(item.id)
            customers = self._part(item.legal_entity_id, item.currency)[2]
            customers[item.customer_id].append(item.id)
            mixed.add((item.legal_entity_id, item.currency, item.customer_id))
        for entity_id, currency_code, customer_id in mixed:
            self.by_customer[entity_id, currency_code][customer_id].sort(key=self._age)
        for (entity_id, currency_code), customers in self.by_customer.items():
            for customer_id in customers:
                self.currencies[customer_id, entity_id].add(currency_code)

    def _part(self, entity_id: int, currency: str) -> tuple[defaultdict, defaultdict, defaultdict]:
        """The indexes of one entity and currency, made when first needed."""
        key = (entity_id, currency)
        if key not in self.by_customer:
            self.by_year_seq[key], self.by_seq[key], self.by_customer[key] = (
                defaultdict(list), defaultdict(list), defaultdict(list))
        return self.by_year_seq[key], self.by_seq[key], self.by_customer[key]

    def _ids_of(self, customer_id: int, legal_entity_id: int, currency: str) -> list[int]:
        customers = self.by_customer.get((legal_entity_id, currency))
        return customers.get(customer_id, []) if customers is not None else []

    def _age(self, pk: int) -> tuple:
        if pk in self.rows:
            values = self.rows[pk]
            return values[7], values[8], pk
        item = self.invoices[pk]
        return item.due_date, item.issue_date, pk

    def _get(self, pk: int) -> OpenInvoice | None:
        invoice = self.invoices.get(pk)
        if invoice is None:
            values = self.rows.get(pk)
            if values is None:
                return None
            invoice = self.invoices[pk] = _book_row(values)
        return invoice

    def _live(self, ids) -> list[OpenInvoice]:
        found = (self._get(pk) for pk in ids)
        return [invoice for invoice in found if invoice is not None]

    def invoices_by_numbers(self, legal_entity_id: int, currency: str, candidates: list[NumberKey]) -> list[OpenInvoice]:
        found: dict[int, OpenInvoice] = {}
        for key in candidates:
            index = (self.by_seq.get((legal_entity_id, currency)) if key.year is None
                     else self.by_year_seq.get((legal_entity_id, currency)))
            if not index:
                continue
            ids = index.get(key.sequence, ()) if key.year is None else index.get((key.year, key.sequence), ())
            for invoice in self._live(ids):
                found[invoice.id] = invoice
        return list(found.values())

    def open_invoices(self, customer_id: int, legal_entity_id: int, currency: str, limit: int = 200) -> list[OpenInvoice]:
        return self._live(self._ids_of(customer_id, legal_entity_id, currency))[:limit]

    def items_by_text(self, legal_entity_id: int, currency: str, text: str) -> list[OpenInvoice]:
        if not self.by_document:
            return []
        return self._live(pk for token in document_tokens(text)
                          for pk in self.by_document.get((legal_entity_id, currency, token), ()))

    def customers_by_account(self, payer_account: str) -> list[int]:
        return self._db.customers_by_account(payer_account)

    def customers_by_alias(self, normalized_payer: str) -> list[int]:
        return self._db.customers_by_alias(normalized_payer)

    def customer_names(self, legal_entity_id: int) -> list[tuple[int, str]]:
        # the same names as the database Book, so a receipt scores the same in a batch and alone
        # (issue 16: the workbench's fresh suggestion contradicted the stored one)
        return self._db.customer_names(legal_entity_id)

    def customers_by_email_domain(self, domain: str) -> list[int]:
        return self._db.customers_by_email_domain(domain)

    def group_of(self, customer_id: int) -> frozenset[int]:
        return self._db.group_of(customer_id)

    def currency_mismatch(self, customer_id: int, legal_entity_id: int, currency: str) -> bool:
        held = {c for c in self.currencies.get((customer_id, legal_entity_id), set())
                if self._live(self._ids_of(customer_id, legal_entity_id, c))}
        return bool(held) and currency not in held

    def consume(self, allocations: list[tuple[int, Decimal]]) -> None:
        for invoice_id, amount in allocations:
            invoice = self._get(invoice_id)
            if invoice is None:
                continue
            left = invoice.open_amount - amount
            if left > 0:
                self.invoices[invoice_id] = OpenInvoice(**{**invoice.__dict__, "open_amount": left})
            else:
                del self.invoices[invoice_id]
                self.rows.pop(invoice_id, None)
