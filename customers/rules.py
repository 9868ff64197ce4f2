"""Object-level rules for customers (autodiscovered by `rules`).

A sales rep sees and touches only the customers they own; finance roles with
`customers.view_all_customers` see every customer. The same rule scopes querysets in
`selectors.customers_visible_to`. Check with `user.has_perm("customers.access_customer", obj)`.
"""

import rules


@rules.predicate
def sees_all_customers(user, customer=None) -> bool:
    return user.has_perm("customers.view_all_customers")


@rules.predicate
def owns_customer(user, customer) -> bool:
    return customer is not None and customer.sales_owner_id == user.id


@rules.predicate
def can_view_customers(user) -> bool:
    return user.has_perm("customers.view_customer")


@rules.predicate
def can_change_customers(user) -> bool:
    return user.has_perm("customers.change_customer")


rules.add_perm("customers.access_customer", can_view_customers & (sees_all_customers | owns_customer))
rules.add_perm("customers.edit_customer", can_change_customers & (sees_all_customers | owns_customer))


def customer_owner_predicate(get_customer):
    """Build a predicate for a record that belongs to a customer (contracts, invoices,
    tickets): visible when the user sees all customers or owns the record's customer."""

    @rules.predicate
    def _owns(user, obj) -> bool:
        customer = get_customer(obj) if obj is not None else None
        return customer is not None and customer.sales_owner_id == user.id

    return sees_all_customers | _owns
