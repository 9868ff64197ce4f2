"""Write-offs plug into lower apps here: the navigation entry, the receivables hook that
reinstates written-off items when cash arrives for them."""

from __future__ import annotations


def register() -> None:
    from otc.registry import NavItem, registry

    from .services.writeoffs import writeoff_recover_for_receipt

    registry.register_nav(NavItem(label="Write-offs", url_name="collections_app:writeoffs-list",
                                  permission="collections_app.view_writeoff", order=75))
    registry.register_receipt_application_hook(writeoff_recover_for_receipt)
