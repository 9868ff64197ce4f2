"""Write-offs plug into lower apps here: the navigation entry, the receivables hook that
reinstates written-off items when cash arrives for them."""

from __future__ import annotations


def register() -> None:
    from otc.registry import registry

    from .services.writeoffs import writeoff_recover_for_receipt

    registry.register_receipt_application_hook(writeoff_recover_for_receipt)
