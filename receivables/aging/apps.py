"""What the aging registers at start-up (called from ReceivablesConfig.ready)."""

from __future__ import annotations


def register() -> None:
    from otc.registry import NavItem, Panel, registry

    from .services import freeze_on_period_close
    from .views_kpis import kpi_panel_context

    registry.register_nav(NavItem("AR aging", "receivables:aging", "receivables.view_aging", order=42))
    registry.register_dashboard_panel(Panel(
        key="receivables-ar-kpis", title="Accounts receivable", template="receivables/panels/ar_kpis.html",
        context=kpi_panel_context, permission="receivables.view_aging", order=20,
    ))
    registry.register_period_close_hook(freeze_on_period_close)
