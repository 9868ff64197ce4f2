from django.apps import AppConfig


class OtcConfig(AppConfig):
    name = "otc"
    verbose_name = "otc kernel"

    def ready(self) -> None:
        from .registry import NavItem, registry

        registry.register_nav(NavItem("Approval limits", "approval_limits", "otc.view_approvallimit", order=90))
        registry.register_nav(NavItem("Webhooks", "webhooks", "otc.view_webhooksubscription", order=95))
