from django.apps import AppConfig


class CollectionsAppConfig(AppConfig):
    name = "collections_app"
    verbose_name = "Collections"

    def ready(self) -> None:
        # Each area registers its navigation, panels and registry hooks in its own module
        # (`registrations_<area>.py`, a `register()` function) and adds one import line here.
        pass
        __import__("collections_app.registrations_dunning", fromlist=["register"]).register()  # i10b
