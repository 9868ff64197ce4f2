"""Contract services: every write to contracts (drafting, review workflow, lifecycle, usage,
comments). Import from here: `from contracts.services import contract_submit`."""

from .comments import contract_comment_add
from .common import lock_contracts, lock_versions
from .documents import contract_document_attach
from .drafts import contract_create, contract_upsert_by_crm_id, contract_version_update
from .lifecycle import (
    contract_amend,
    contract_amend_with_terms,
    contract_terminate,
    contracts_activate_due,
    contracts_expire_due,
)
from .usage import usage_record_post, usage_records_post_batch
from .workflow import contract_decide, contract_override_blocking, contract_submit

__all__ = [
    "contract_amend", "contract_amend_with_terms", "contract_comment_add", "contract_create", "contract_decide", "contract_document_attach", "contract_override_blocking",
    "contract_submit", "contract_terminate", "contract_upsert_by_crm_id", "contract_version_update",
    "contracts_activate_due", "contracts_expire_due", "lock_contracts", "lock_versions", "usage_record_post",
    "usage_records_post_batch",
]
