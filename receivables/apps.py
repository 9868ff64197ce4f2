from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "receivables"
    verbose_name = "Receivables"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, WebhookSubject, registry

        from .views import panels
        from .views.workbench import WORKBENCH

        registry.register_nav(NavItem("Cash", "receivables:workbench", WORKBENCH, order=40))
        registry.register_webhook_subject(WebhookSubject("receipt", "receipt-detail", "receipts:read"))
        registry.register_webhook_events("receipt", {
            "receipt.recorded": "Cash arrived (statement import, manual entry or the API).",
            "receipt.applied": "A receipt was applied to invoices.",
            "receipt.reversed": "A receipt was reversed.",
        })
        registry.register_dashboard_panel(Panel(
            key="receivables-unapplied-by-age", title="Unapplied cash by age",
            template="receivables/panels/unapplied_by_age.html", context=panels.unapplied_by_age_context,
            permission=WORKBENCH, order=45,
        ))
        from .aging.apps import register as register_aging

        register_aging()
        registry.register_customer_panel(Panel(
            key="receivables-cash", title="Cash: unapplied and payment history",
            template="receivables/panels/customer_cash.html", context=panels.customer_cash_context,
            permission="receivables.view_receipt", order=25, width="col-12",
        ))
        registry.register_invoice_panel(Panel(
            key="receivables-invoice-payments", title="Payments", template="receivables/panels/invoice_payments.html",
            context=panels.invoice_payments_context, permission="receivables.view_receiptapplication", order=10,
        ))
        registry.register_invoice_communication(Panel(
            key="receivables-invoice-statements", title="Statements sent",
            template="receivables/panels/invoice_statements.html", context=panels.invoice_statements_context,
            order=10,
        ))
