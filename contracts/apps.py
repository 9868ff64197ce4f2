from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, WebhookSubject, registry

        from . import panels

        registry.register_nav(NavItem("Contracts", "contracts:list", "contracts.view_contract", order=20))
        registry.register_webhook_subject(WebhookSubject("contract", "contract-detail", "contracts:read"))
        registry.register_webhook_events("contract", {
            f"contract.{state}": f"A contract (version) was {state.replace('_', ' ')}." for state in (
                "submitted", "approved", "rejected", "changes_requested", "activated", "renewed", "expired",
                "terminated")
        })
        registry.register_nav(NavItem("Finance policy", "contracts:policy", "contracts.view_financepolicy", order=85, section="Settings"))
        registry.register_nav(NavItem("Products", "contracts:products", "contracts.view_product", order=86, section="Settings"))
        registry.register_dashboard_panel(Panel(
            key="contracts-review", title="Contracts awaiting my review", template="contracts/panels/queue.html",
            context=panels.review_context, permission="contracts.review_contract", order=30,
        ))
        registry.register_dashboard_panel(Panel(
            key="contracts-changes", title="Contracts: changes requested", template="contracts/panels/queue.html",
            context=panels.changes_context, permission="contracts.view_contract", order=31,
        ))
        registry.register_dashboard_panel(Panel(
            key="contracts-approved", title="Contracts approved this month", template="contracts/panels/queue.html",
            context=panels.approved_context, permission="contracts.view_contract", order=32,
        ))
        registry.register_customer_panel(Panel(
            key="contracts", title="Contracts", template="contracts/panels/customer.html",
            context=panels.customer_contracts_context, permission="contracts.view_contract", order=15,
            width="col-12",
        ))
