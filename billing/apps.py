from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, WebhookSubject, registry

        from .views import panels

        registry.register_nav(NavItem("Billing", "billing:invoices", "billing.view_invoice", order=30))
        registry.register_webhook_subject(WebhookSubject("invoice", "invoice-detail", "invoices:read"))
        registry.register_webhook_events("invoice", {
            "invoice.issued": "An invoice was issued (numbered, posted).",
            "invoice.paid": "Nothing is left to pay on an invoice (by payments or credit).",
            "invoice.overdue": "An issued invoice passed its due date unpaid (once per invoice).",
            "invoice.voided": "An issued invoice was voided.",
        })
        registry.register_webhook_subject(WebhookSubject("credit_note", "credit-note-detail", "credit_notes:read"))
        registry.register_webhook_events("credit_note", {
            "credit_note.requested": "A credit note was requested.",
            "credit_note.approved": "A credit note was approved.",
            "credit_note.rejected": "A credit note request was rejected.",
            "credit_note.issued": "A credit note was issued (numbered, posted).",
        })
        registry.register_dashboard_panel(Panel(
            key="billing-on-hold", title="Invoices on hold", template="billing/panels/on_hold.html",
            context=panels.on_hold_context, permission="billing.hold_invoice", order=40,
        ))
        registry.register_dashboard_panel(Panel(
            key="billing-credit-notes-awaiting", title="Credit notes awaiting my approval",
            template="billing/panels/credit_notes_awaiting.html", context=panels.credit_notes_awaiting_context,
            permission="billing.approve_creditnote", order=41,
        ))
        registry.register_dashboard_panel(Panel(
            key="billing-portal-pending", title="Portal uploads pending", template="billing/panels/portal_pending.html",
            context=panels.portal_pending_context, permission="billing.change_portalsubmission", order=42,
        ))
