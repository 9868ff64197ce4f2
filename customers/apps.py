from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, WebhookSubject, registry

        from . import panels

        registry.register_nav(NavItem("Customers", "customers:list", "customers.view_customer", order=10))
        registry.register_webhook_subject(WebhookSubject("customer", "customer-detail", "customers:read"))
        registry.register_webhook_events("customer", {
            "customer.created": "A customer was created (app, API or CRM upsert).",
            "customer.updated": "A customer's master data changed (app, API, upsert or import).",
        })
        registry.register_dashboard_panel(Panel(
            key="customers-attention", title="Customers on hold or blocked",
            template="customers/panels/attention.html", context=panels.attention_context,
            permission="customers.view_all_customers", order=20,
        ))
        registry.register_dashboard_panel(Panel(
            key="customers-mine", title="My customers", template="customers/panels/my_customers.html",
            context=panels.my_customers_context, permission="customers.view_customer", order=10,
        ))
