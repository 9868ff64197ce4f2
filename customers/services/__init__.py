"""Customer services: every write to the customer master file."""

from .contacts import contact_create, contact_delete, contact_update
from .customers import customer_create, customer_update, customer_upsert_by_crm_id, lock_customers
from .fields import CONTACT_FIELDS, EDITABLE_FIELDS
from .imports import customers_import_apply, customers_import_preview

__all__ = [
    "CONTACT_FIELDS", "EDITABLE_FIELDS", "contact_create", "contact_delete", "contact_update", "customer_create",
    "customer_update", "customer_upsert_by_crm_id", "customers_import_apply", "customers_import_preview",
    "lock_customers",
]
