"""The comment thread of a contract (the review page)."""

from __future__ import annotations

from django.db import transaction

from otc.errors import NotFound, PermissionDenied, ValidationFailed
from otc.models import User

from ..models import Contract, ContractComment, ContractVersion
from .common import ensure_access


@transaction.atomic(durable=True)
def contract_comment_add(*, contract_id: int, by: User, body: str, version_id: int | None = None) -> ContractComment:
    if not by.has_perm("contracts.add_contractcomment"):
        raise PermissionDenied("Your role may not comment on contracts.")
    contract = Contract.objects.select_related("customer").filter(pk=contract_id).first()
    if contract is None:
        raise NotFound("No such contract.")
    ensure_access(contract, by)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Please correct: body: Write a comment.", fields={"body": ["Write a comment."]})
    if version_id is not None and not ContractVersion.objects.filter(pk=version_id, contract=contract).exists():
        raise ValidationFailed("Please correct: version_id: Not a version of this contract.",
                               fields={"version_id": ["Not a version of this contract."]})
    return ContractComment.objects.create(contract=contract, version_id=version_id, author=by, body=body)
