"""Where higher apps plug into pages that `otc` (or a lower app) renders.

A lower app never imports a higher one. Instead, higher apps register navigation entries,
dashboard work-queue panels and customer-page panels here in their `AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None
    order: int = 100
    section: str = "main"


@dataclass(frozen=True)
class Panel:
    """A panel: `context(request, **kw)` returns the template context, or None to hide it."""

    key: str
    title: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    permission: str | None = None
    order: int = 100
    width: str = "col-lg-6"


@dataclass(frozen=True)
class WebhookSubject:
    """A kind of object webhooks carry: `detail_url_name` is its API detail route (the body holds
    the object exactly as that endpoint shows it to the subscribing client), `scope` the API
    scope a client needs to subscribe to its events."""

    subject_type: str
    detail_url_name: str
    scope: str


@dataclass(frozen=True)
class WebhookEventType:
    """An outbox topic clients may subscribe to (`invoice.paid`), about one subject type."""

    topic: str
    subject_type: str
    description: str


@dataclass(frozen=True)
class ListColumn:
    """A column a higher app adds to a lower app's list (the customer list's balance, from the
    ledger): `annotate(queryset, user)` adds the value (named `key`) in SQL so the list can sort by
    it; `order_by` the fields it sorts by; `render(record)` the cell's HTML."""

    key: str
    label: str
    annotate: Callable[..., Any]
    render: Callable[[Any], Any]
    order_by: tuple[str, ...] = ()
    permission: str | None = None
    order: int = 100
    css: str = "money"


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    dashboard: list[Panel] = field(default_factory=list)
    customer: list[Panel] = field(default_factory=list)
    webhook_subjects: dict[str, WebhookSubject] = field(default_factory=dict)
    webhook_events: dict[str, WebhookEventType] = field(default_factory=dict)
    invoice: list[Panel] = field(default_factory=list)  # the invoice page: payments (receivables)...
    invoice_communication: list[Panel] = field(default_factory=list)  # its communication log: statements
    customer_list_columns: list[ListColumn] = field(default_factory=list)  # balance, overdue (ledger)
    # Called inside the period close / reopen transaction: hook(period=, by=, closing=).
    period_close_hooks: list[Callable[..., None]] = field(default_factory=list)
    # Called by receivables' cash application before it applies cash, inside its transaction, with
    # the receipt locked: hook(receipt=, invoice_amounts={invoice id: amount},
    # item_amounts={open item id: amount}, by=). Write-offs reinstate what was written off there.
    receipt_application_hooks: list[Callable[..., None]] = field(default_factory=list)
    # Credit holds (collections): reader(customer_ids=, legal_entity_id=) -> {customer id: reason}.
    credit_hold_readers: list[Callable[..., dict[int, str]]] = field(default_factory=list)

    def _add(self, items: list, item: Any) -> None:
        key = getattr(item, "key", None) or getattr(item, "url_name", None)
        items[:] = [i for i in items if (getattr(i, "key", None) or getattr(i, "url_name", None)) != key]
        items.append(item)
        items.sort(key=lambda i: i.order)

    def register_nav(self, item: NavItem) -> None:
        self._add(self.nav, item)

    def register_dashboard_panel(self, panel: Panel) -> None:
        self._add(self.dashboard, panel)

    def register_customer_panel(self, panel: Panel) -> None:
        self._add(self.customer, panel)

    def register_webhook_subject(self, subject: WebhookSubject) -> None:
        self.webhook_subjects[subject.subject_type] = subject

    def register_webhook_events(self, subject_type: str, events: dict[str, str]) -> None:
        """Register subscribable topics of one subject type: {topic: description}."""
        for topic, description in events.items():
            self.webhook_events[topic] = WebhookEventType(topic, subject_type, description)

    def register_invoice_panel(self, panel: Panel) -> None:
        """A panel on billing's invoice page; `context(request, invoice=...)`."""
        self._add(self.invoice, panel)

    def register_invoice_communication(self, panel: Panel) -> None:
        """Entries in the invoice page's communication log (statements sent, from receivables);
        `context(request, invoice=...)`."""
        self._add(self.invoice_communication, panel)

    def register_customer_list_column(self, column: ListColumn) -> None:
        """A column on the customer list (customers.views.customer_list)."""
        self._add(self.customer_list_columns, column)

    def register_period_close_hook(self, hook: Callable[..., None]) -> None:
        if hook not in self.period_close_hooks:
            self.period_close_hooks.append(hook)

    def register_receipt_application_hook(self, hook: Callable[..., None]) -> None:
        if hook not in self.receipt_application_hooks:
            self.receipt_application_hooks.append(hook)
    def register_credit_hold_reader(self, reader: Callable[..., dict[int, str]]) -> None:
        """Collections tells lower apps (contract review, the billing run) who is on credit hold."""
        if reader not in self.credit_hold_readers:
            self.credit_hold_readers.append(reader)
    # --- named hooks (issue 10): a lower app calls what a higher app registered, without importing it.
    # "credit_note_issued" (billing, inside the issue transaction: credit_note=, by=) closes the
    # disputes it resolves; "customer_collections_hold" (customer_id=) -> dict | None is read by the
    # collections API (credit holds fill it); "collections_timeline" (customer_id=, limit=) -> list of
    # entries for the customer's collections page (help-desk tickets, dunning letters).
    hooks: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)

    def register_hook(self, name: str, hook: Callable[..., Any]) -> None:
        items = self.hooks.setdefault(name, [])
        if hook not in items:
            items.append(hook)

    def call_hooks(self, name: str, **kwargs: Any) -> list[Any]:
        """Call every hook registered under `name`; their results in registration order."""
        return [hook(**kwargs) for hook in self.hooks.get(name, [])]


registry = Registry()


def visible(user: Any, items: list) -> list:
    return [i for i in items if i.permission is None or user.has_perm(i.permission)]


def render_panels(request: Any, panels: list[Panel], **kwargs: Any) -> list[dict[str, Any]]:
    """Evaluate the panels the user may see; each becomes {panel, context}."""
    out = []
    for panel in visible(request.user, panels):
        ctx = panel.context(request, **kwargs)
        if ctx is not None:
            out.append({"panel": panel, "context": ctx})
    return out


def credit_holds(*, customer_ids: list[int] | set[int], legal_entity_id: int | None = None) -> dict[int, str]:
    """{customer id: why it is on credit hold} for the given customers (any entity, or one), as
    the registered readers (collections) say; empty when no app registered one. One query per reader."""
    held: dict[int, str] = {}
    ids = list(customer_ids)
    if not ids:
        return held
    for reader in registry.credit_hold_readers:
        for customer_id, reason in reader(customer_ids=ids, legal_entity_id=legal_entity_id).items():
            held.setdefault(customer_id, reason)
    return held
