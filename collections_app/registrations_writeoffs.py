"""Write-offs plug into lower apps here: a dashboard panel (the write-off work queue), a panel on
billing's invoice page, and the receivables hook that reinstates written-off items when cash
arrives for them. No top-level navigation entry: the bar is full at 1280 px (the pages are
reached from the dashboard panel, the invoice page and /collections/write-offs/)."""

from __future__ import annotations


def register() -> None:
    from otc.registry import NavItem, Panel, registry

    from . import panels_writeoffs
    from .services.writeoffs import writeoff_recover_for_receipt

    registry.register_nav(NavItem("Write-offs", "collections_app:writeoffs-list", "collections_app.view_writeoff", order=55,
                                  section="Collections"))
    registry.register_dashboard_panel(Panel(
        key="collections-writeoffs", title="Write-offs", template="collections_app/writeoffs/panels/dashboard.html",
        context=panels_writeoffs.dashboard_context, permission="collections_app.view_writeoff", order=75))
    registry.register_invoice_panel(Panel(
        key="collections-invoice-writeoff", title="Write-off", template="collections_app/writeoffs/panels/invoice.html",
        context=panels_writeoffs.invoice_context, permission="collections_app.view_writeoff", order=30))
    registry.register_receipt_application_hook(writeoff_recover_for_receipt)
