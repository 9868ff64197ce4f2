from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data: the topmost layer. It may import every app; nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
