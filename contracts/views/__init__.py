"""Browser views for contracts. Each view names its permission explicitly.

Visibility: a contract the user may not see (another sales rep's) answers 404, never 403, so
that its existence is not revealed. A user who can see a contract but lacks the permission to
act on it gets 403."""

from .contracts import contract_create_view, contract_document, contract_edit, contract_list
from .queues import queue_approved, queue_changes, queue_review
from .review import (
    contract_amend_view,
    contract_comment_view,
    contract_decide_view,
    contract_detail,
    contract_override_view,
    contract_submit_view,
    contract_terminate_view,
)

__all__ = [
    "contract_amend_view", "contract_comment_view", "contract_create_view", "contract_decide_view", "contract_detail",
    "contract_document", "contract_edit", "contract_list", "contract_override_view", "contract_submit_view",
    "contract_terminate_view", "queue_approved", "queue_changes", "queue_review",
]
