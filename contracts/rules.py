"""Object rules for contracts (autodiscovered by `rules`). A sales rep sees a contract when they
own its customer, are its sales owner, or submitted/created it; finance roles with
`customers.view_all_customers` see all. `selectors.contracts_visible_to` mirrors this."""

import rules

from customers.rules import sees_all_customers


@rules.predicate
def is_contract_party(user, contract) -> bool:
    if contract is None:
        return False
    return user.id in (contract.customer.sales_owner_id, contract.sales_owner_id, contract.created_by_id)


@rules.predicate
def can_view_contracts(user) -> bool:
    return user.has_perm("contracts.view_contract")


@rules.predicate
def can_change_contracts(user) -> bool:
    return user.has_perm("contracts.change_contract")


rules.add_perm("contracts.access_contract", can_view_contracts & (sees_all_customers | is_contract_party))
rules.add_perm("contracts.edit_contract", can_change_contracts & (sees_all_customers | is_contract_party))
