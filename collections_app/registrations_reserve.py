"""What the reserve registers at start-up (one line in CollectionsAppConfig.ready)."""

from __future__ import annotations


def register() -> None:
    from otc.registry import NavItem, registry

    registry.register_nav(NavItem("Bad-debt reserve", "collections_app:reserve_runs", "collections_app.view_reserve", order=56,
                                  section="Collections"))
