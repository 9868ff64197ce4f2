"""Browser views for the customer master file. Each view names its permission explicitly.

Visibility: a customer the user may not see (another sales rep's) answers 404, never 403, so
that its existence is not revealed. A user who can see a customer but lacks the permission to
do something with it gets 403."""

from .contacts import contact_add, contact_delete, contact_edit
from .customers import customer_create, customer_detail, customer_edit, customer_export, customer_list
from .imports import customer_import, customer_import_apply, customer_import_preview

__all__ = [
    "contact_add", "contact_delete", "contact_edit", "customer_create", "customer_detail", "customer_edit",
    "customer_export", "customer_import", "customer_import_apply", "customer_import_preview", "customer_list",
]
