from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Help desk"

    def ready(self) -> None:
        from otc.registry import NavItem, Panel, registry

        from . import panels

        registry.register_nav(NavItem("Help desk", "helpdesk:index", "helpdesk.view_ticket", order=70))
        # Each role's home shows its own work first: the agent's queue, the rep's tickets.
        registry.register_dashboard_panel(Panel(
            key="helpdesk-my-queue", title="My queue", template="helpdesk/panels/my_queue.html",
            context=panels.my_queue_context, permission="helpdesk.work_tickets", order=1, width="col-lg-8",
        ))
        registry.register_dashboard_panel(Panel(
            key="helpdesk-my-tickets", title="My tickets", template="helpdesk/panels/my_tickets.html",
            context=panels.my_tickets_context, permission="helpdesk.file_ticket", order=5,
        ))
        registry.register_dashboard_panel(Panel(
            key="helpdesk-data-changes", title="Customer data changes to decide",
            template="helpdesk/panels/data_changes.html", context=panels.data_changes_context,
            permission="helpdesk.decide_datachange", order=43,
        ))
        registry.register_customer_panel(Panel(
            key="helpdesk-customer-tickets", title="Help-desk tickets", template="helpdesk/panels/customer_tickets.html",
            context=panels.customer_tickets_context, permission="helpdesk.view_ticket", order=40, width="col-12",
        ))
        registry.register_hook("collections_timeline", panels.collections_timeline)  # tickets on collections' timeline
