from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "receivables"
    verbose_name = "Receivables"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, registry

        from .views import panels
        from .views._common import WORKBENCH

        registry.register_nav(NavItem("Cash", "receivables:workbench", WORKBENCH, order=40))
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
