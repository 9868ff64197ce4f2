from django.apps import AppConfig


class OtcConfig(AppConfig):
    name = "otc"
    verbose_name = "otc kernel"

    def ready(self) -> None:
        from . import registry  # noqa: F401  (panels registered by the apps' ready())
