"""Dunning, credit holds and placements plug into the navigation and the registry here."""

from __future__ import annotations

from otc.registry import NavItem, registry


def register() -> None:
    registry.register_nav(NavItem("Dunning", "collections_app:dunning", "collections_app.view_dunningrun", order=52))
    register_credit_holds()


def register_credit_holds() -> None:
    from collections_app.selectors.credit_holds import active_holds
    from otc.registry import registry as reg

    reg.register_credit_hold_reader(active_holds)
