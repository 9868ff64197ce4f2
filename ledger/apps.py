from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, registry

        from . import panels

        registry.register_nav(NavItem("Ledger", "ledger:index", "ledger.view_legalentity", order=60))
        registry.register_customer_panel(Panel(
            key="ledger-balance", title="Balance and open items", template="ledger/panels/customer_balance.html",
            context=panels.customer_balance_context, permission="ledger.view_openitem", order=20, width="col-12",
        ))
        registry.register_dashboard_panel(Panel(
            key="ledger-ar-control", title="AR control reconciliation", template="ledger/panels/ar_control.html",
            context=panels.ar_control_context, permission="ledger.view_trial_balance", order=60,
        ))
        registry.register_dashboard_panel(Panel(
            key="ledger-periods", title="Periods open", template="ledger/panels/periods.html",
            context=panels.periods_context, permission="ledger.view_period", order=61,
        ))
