from django.apps import AppConfig


class OtcConfig(AppConfig):
    name = "otc"
    verbose_name = "otc kernel"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import history_speed, lookups  # noqa: F401  (registers the `__any` lookup)
        from .registry import NavItem, registry
        from .security import remember_two_factor_state

        user_logged_in.connect(remember_two_factor_state, dispatch_uid="otc.two_factor_state")
        history_speed.install()

        registry.register_nav(NavItem("Approval limits", "approval_limits", "otc.view_approvallimit", order=90, section="Settings"))
        registry.register_nav(NavItem("Webhooks", "webhooks", "otc.view_webhooksubscription", order=95, section="Settings"))
