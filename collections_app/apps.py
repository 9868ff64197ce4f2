from django.apps import AppConfig


class CollectionsAppConfig(AppConfig):
    name = "collections_app"
    verbose_name = "Collections"

    def ready(self) -> None:
        # Each area registers its navigation, panels and registry hooks in its own module
        # (`registrations_<area>.py`, a `register()` function) and adds one line here.
        from . import (
            registrations_dunning,
            registrations_placement_aging,
            registrations_reserve,
            registrations_worklist,
            registrations_writeoffs,
        )

        registrations_dunning.register()
        registrations_reserve.register()
        registrations_worklist.register()
        registrations_writeoffs.register()
        registrations_placement_aging.register()
