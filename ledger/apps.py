from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from otc.registry import ListColumn, NavItem, Panel, registry

        from . import list_columns, panels

        registry.register_nav(NavItem("Ledger", "ledger:index", "ledger.view_legalentity", order=60))
        registry.register_customer_panel(Panel(
            key="ledger-balance", title="Balance and open items", template="ledger/panels/customer_balance.html",
            context=panels.customer_balance_context, permission="ledger.view_openitem", order=20, width="col-12",
        ))
        registry.register_customer_list_column(ListColumn(
            key="balance", label="Balance", annotate=list_columns.annotate_balance,
            render=list_columns.render_balance, order_by=("default_currency", "ledger_balance"),
            permission="ledger.view_openitem", order=10,
        ))
        registry.register_customer_list_column(ListColumn(
            key="overdue", label="Overdue", annotate=lambda queryset, user=None: queryset,  # annotated with the balance
            render=list_columns.render_overdue, order_by=("default_currency", "ledger_overdue"),
            permission="ledger.view_openitem", order=11,
        ))
        registry.register_dashboard_panel(Panel(
            key="ledger-ar-control", title="AR control reconciliation", template="ledger/panels/ar_control.html",
            context=panels.ar_control_context, permission="ledger.view_trial_balance", order=60,
        ))
        registry.register_dashboard_panel(Panel(
            key="ledger-periods", title="Periods open", template="ledger/panels/periods.html",
            context=panels.periods_context, permission="ledger.view_period", order=61,
        ))
