"""Write-off services: request, evidence, approval chain, posting, recoveries (docs/write-offs.md).

Rules:
- A write-off is one customer's AR open items (invoices, or items without an invoice such as
  migrated opening balances) in one legal entity and currency; each item is written off for its
  whole open amount (an invoice's whole or remaining balance) or, when an amount is given for it,
  for part of it (a partial line: the rest stays open, in dunning and the worklist). An item is in at most one live
  (draft, submitted, approved) write-off. An invoice under an open dispute is refused until the
  dispute is resolved (checked when requested, approved and posted).
- Approval chain by amount: one approval, or two when the amount (in the functional currency)
  is above the entity's `second_approval_above`. Each level is a different person, never the
  requester, holding collections_app.approve_writeoff and a write-off ApprovalLimit (otc) in the
  write-off's currency; the last level's limit must cover the amount.
- Posting (approved -> posted) in an open period only (a closed period is refused, never rolled
  forward): debit the allowance for doubtful accounts (or bad-debt expense when the entity's
  policy has no allowance), debit the tax portion (amount x tax / gross of the invoice, pro rata
  for a partial line) to each output-VAT account the invoice credited, when the entity allows VAT
  bad-debt relief, credit AR settling each item; the invoices move to written off through
  billing's own service.
- Recoveries: receivables calls `writeoff_recover_for_receipt` (a registry hook) before it applies
  cash to a written-off invoice or item: the item is reopened by what the cash pays beyond its
  open amount, crediting the account the write-off debited (reinstate) or bad-debt recoveries
  (income), and VAT payable with the relief repaid; then receivables applies the cash as usual.

The package: `rules` (policy, permission, lock, checks), `chain` (one write-off: request to
post), `batches` (small-balance batches), `recoveries`. Every service is importable from here.
"""

from .batches import (
    batch_approve,
    batch_post,
    batch_reject,
    batch_submit,
    lock_batch,
    small_balance_batch_propose,
    small_balance_candidates,
)
from .chain import (
    writeoff_approve,
    writeoff_attach,
    writeoff_post,
    writeoff_reject,
    writeoff_request,
    writeoff_request_within,
    writeoff_submit,
)
from .recoveries import writeoff_recover_for_receipt
from .rules import MAX_ATTACHMENT, POLICY_FIELDS, lock_write_off, policy_for, writeoff_policy_save

__all__ = [
    "MAX_ATTACHMENT", "POLICY_FIELDS", "batch_approve", "batch_post", "batch_reject", "batch_submit", "lock_batch",
    "lock_write_off", "policy_for", "small_balance_batch_propose", "small_balance_candidates", "writeoff_approve",
    "writeoff_attach", "writeoff_policy_save", "writeoff_post", "writeoff_recover_for_receipt", "writeoff_reject",
    "writeoff_request", "writeoff_request_within", "writeoff_submit",
]
