"""Outbox events (webhook-ready) for contract changes, written in the changing transaction."""

from __future__ import annotations

from typing import Any

from otc.services import outbox_emit

from ..models import ContractVersion


def emit(topic: str, version: ContractVersion, **extra: Any) -> None:
    contract = version.contract
    payload = {
        "contract_id": contract.id, "number": contract.number, "crm_opportunity_id": contract.crm_opportunity_id,
        "version_id": version.id, "version": version.version, "status": version.status,
        "contract_status": contract.status, **extra,
    }
    outbox_emit(topic=topic, subject_type="contract", subject_id=contract.id, payload=payload)
