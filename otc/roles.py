"""The one place that maps roles (Django groups) to permissions.

`ensure_roles()` creates or updates the groups idempotently; the `ensure_roles` command, the
demo seed and the test fixtures call it. Object-level rules (a sales rep sees only customers
they own) live in each app's `rules.py`, next to the matching queryset scoping in selectors.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

SALES_REP = "Sales Rep"
CONTRACT_REVIEWER = "Contract Reviewer"
FINANCE_MANAGER = "Finance Manager"
CONTROLLER = "Controller"
BILLING_SPECIALIST = "Billing Specialist"
CASH_APPLICATION = "Cash Application Specialist"
COLLECTOR = "Collector"
HELP_DESK_AGENT = "Help Desk Agent"
AUDITOR = "Auditor"
INTEGRATION = "Integration"

PROJECT_APPS = ("otc", "customers", "ledger", "contracts", "billing", "receivables", "collections_app", "helpdesk")

_FINANCE_READ = [
    "customers.view_customer", "customers.view_all_customers", "customers.view_contact",
    "ledger.view_legalentity", "ledger.view_openitem", "otc.view_audit_trail",
    "billing.view_invoice", "billing.view_invoiceline", "billing.view_creditnote", "billing.view_creditnoteline",
    "receivables.view_receipt", "receivables.view_receiptapplication", "receivables.view_aging",
]
_RECEIVABLES_READ = [
    "receivables.view_bankaccount", "receivables.view_statementimport", "receivables.view_bankstatement",
    "receivables.view_receipt", "receivables.view_receiptapplication", "receivables.view_payeralias",
]
_CONTRACTS_READ = [
    "contracts.view_contract", "contracts.view_contractversion", "contracts.view_contractline",
    "contracts.view_product", "contracts.view_financepolicy", "contracts.view_assessment", "contracts.view_finding",
    "contracts.view_approval", "contracts.view_contractcomment", "contracts.view_usagerecord",
]
_CONTRACTS_REVIEW = [*_CONTRACTS_READ, "contracts.review_contract", "contracts.add_contractcomment"]
_BILLING_READ = [
    "billing.view_invoice", "billing.view_invoiceline", "billing.view_creditnote", "billing.view_creditnoteline",
    "billing.view_taxcode", "billing.view_billingrun", "billing.view_billingexception", "billing.view_delivery",
    "billing.view_portalsubmission",
]
_LEDGER_READ = [
    "ledger.view_account", "ledger.view_period", "ledger.view_fxrate", "ledger.view_journalentry",
    "ledger.view_trial_balance",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: [
        "customers.view_customer", "customers.view_contact", "ledger.view_openitem",
        *_CONTRACTS_READ, "contracts.add_contract", "contracts.change_contract", "contracts.submit_contract",
        "contracts.add_contractcomment", "billing.view_invoice", "billing.view_invoiceline", "billing.view_creditnote",
        "receivables.view_receipt", "receivables.view_receiptapplication",
        "helpdesk.view_ticket", "helpdesk.file_ticket",
        "receivables.view_receipt", "receivables.view_receiptapplication", "receivables.view_aging",
    ],
    CONTRACT_REVIEWER: [*_FINANCE_READ, *_CONTRACTS_REVIEW],
    FINANCE_MANAGER: [
        *_FINANCE_READ, *_LEDGER_READ, *_CONTRACTS_REVIEW, "customers.export_customers", "customers.change_customer",
        "otc.view_approvallimit", *_BILLING_READ, "billing.approve_creditnote", "billing.void_invoice",
        "billing.hold_invoice",  # releasing drafts of customers on credit hold, within a credit-release limit
        *_RECEIVABLES_READ, "receivables.refund_receipt",
        *_RECEIVABLES_READ, "receivables.refund_receipt", "receivables.generate_ar_report",
    ],
    CONTROLLER: [
        *_FINANCE_READ, *_LEDGER_READ, "customers.export_customers", "customers.change_customer",
        "ledger.change_legalentity", "ledger.add_account", "ledger.change_account",
        "ledger.manage_periods", "ledger.add_fxrate", "ledger.change_fxrate",
        "ledger.post_manual_journal", "ledger.export_gl",
        "otc.view_approvallimit", "otc.add_approvallimit", "otc.change_approvallimit", "otc.delete_approvallimit",
        *_CONTRACTS_REVIEW, "contracts.override_blocking_finding", "contracts.manage_finance_policy",
        "contracts.change_financepolicy", "contracts.terminate_contract", "contracts.add_product",
        "contracts.change_product", *_BILLING_READ, "billing.approve_creditnote", "billing.void_invoice",
        "billing.hold_invoice", "billing.add_taxcode", "billing.change_taxcode", "billing.start_billing_run",
        *_RECEIVABLES_READ, "receivables.add_bankaccount", "receivables.change_bankaccount", "receivables.refund_receipt",
        "receivables.run_aging_snapshot", "receivables.generate_ar_report",
    ],
    BILLING_SPECIALIST: [
        *_FINANCE_READ, "ledger.view_journalentry",
        "customers.add_customer", "customers.change_customer", "customers.import_customers",
        "customers.export_customers", "customers.add_contact", "customers.change_contact", "customers.delete_contact",
        *_CONTRACTS_READ, "contracts.add_product", "contracts.change_product", "contracts.add_contractcomment",
        *_BILLING_READ, "billing.add_invoice", "billing.change_invoice", "billing.issue_invoice", "billing.hold_invoice",
        "billing.start_billing_run", "billing.request_creditnote", "billing.approve_creditnote",
        "billing.issue_creditnote", "billing.change_portalsubmission",
        "helpdesk.view_datachangerequest", "helpdesk.decide_datachange",
    ],
    CASH_APPLICATION: [
        *_FINANCE_READ, *_LEDGER_READ, *_CONTRACTS_READ, *_BILLING_READ, *_RECEIVABLES_READ,
        "receivables.add_receipt", "receivables.apply_receipt", "receivables.import_statement",
        "receivables.reverse_receipt",
    ],
    COLLECTOR: [*_FINANCE_READ, *_CONTRACTS_READ, "customers.add_contact", "customers.change_contact",
                "billing.request_creditnote"],
    HELP_DESK_AGENT: [*_FINANCE_READ, *_CONTRACTS_READ, "billing.request_creditnote", "billing.view_delivery",
                      "billing.view_portalsubmission", "helpdesk.view_ticket", "helpdesk.work_tickets",
                      "helpdesk.view_helpdesk_metrics", "helpdesk.view_cannedreply", "helpdesk.view_datachangerequest"],
    AUDITOR: [],  # every view_* permission of the project apps, plus read-only exports: see below
    INTEGRATION: [
        "customers.view_customer", "customers.view_all_customers", "customers.add_customer",
        "customers.change_customer", "customers.view_contact", "customers.add_contact", "customers.change_contact",
        "ledger.view_legalentity", "ledger.view_openitem", "ledger.view_account", "ledger.view_journalentry",
        *_CONTRACTS_READ, "contracts.add_contract", "contracts.change_contract", "contracts.submit_contract",
        "contracts.add_usagerecord", "billing.view_invoice", "billing.view_invoiceline", "billing.view_creditnote",
        "billing.view_creditnoteline", "billing.request_creditnote",
        "receivables.view_receipt", "receivables.view_receiptapplication", "receivables.add_receipt",
        "helpdesk.view_ticket", "helpdesk.file_ticket", "helpdesk.view_all_tickets",
        "otc.view_webhooksubscription", "otc.add_webhooksubscription", "otc.change_webhooksubscription",
        "otc.delete_webhooksubscription", "otc.view_webhookdelivery",
        "receivables.view_aging",
    ],
}
# --- bad-debt reserve (issue 11, collections_app "reserve") ---
_RESERVE_VIEW = ["collections_app.view_reserve", "collections_app.view_provisionpolicy",
                 "collections_app.view_reserverun", "collections_app.view_specificreserve"]
ROLE_PERMISSIONS[CONTROLLER] += [*_RESERVE_VIEW, "collections_app.manage_provision_policy",
                                 "collections_app.prepare_reserve", "collections_app.approve_reserve",
                                 "collections_app.post_reserve"]
ROLE_PERMISSIONS[FINANCE_MANAGER] += [*_RESERVE_VIEW, "collections_app.prepare_reserve",
                                      "collections_app.approve_reserve"]
ROLE_PERMISSIONS[COLLECTOR] += ["collections_app.view_reserve"]
ROLE_PERMISSIONS[INTEGRATION] += ["collections_app.view_reserve"]
# --- collections: dunning, credit holds, agency and legal placements (i10b) ---
_I10B_PERMISSIONS = {
    COLLECTOR: ["collections_app.view_dunningpolicy", "collections_app.view_dunningrun",
                "collections_app.view_dunningletter", "collections_app.run_dunning",
                "collections_app.exclude_from_dunning", "collections_app.view_credithold"],
    FINANCE_MANAGER: ["collections_app.view_dunningpolicy", "collections_app.view_dunningrun",
                      "collections_app.view_dunningletter", "collections_app.run_dunning",
                      "collections_app.exclude_from_dunning", "collections_app.view_credithold",
                      "collections_app.release_credit_hold"],
    CONTROLLER: ["collections_app.view_dunningpolicy", "collections_app.view_dunningrun",
                 "collections_app.view_dunningletter", "collections_app.run_dunning",
                 "collections_app.manage_dunning_policy", "collections_app.exclude_from_dunning",
                 "collections_app.view_credithold", "collections_app.release_credit_hold"],
}
_I10B_AGENCY = ["collections_app.view_agency", "collections_app.view_placement", "collections_app.view_recovery",
                "collections_app.place_with_agency"]
for _role in (COLLECTOR, FINANCE_MANAGER, CONTROLLER):
    _I10B_PERMISSIONS[_role] += _I10B_AGENCY
for _role, _perms in _I10B_PERMISSIONS.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_perms]

AUDITOR_EXTRA = [
    "customers.view_all_customers", "customers.export_customers", "ledger.view_trial_balance",
    "ledger.export_gl", "otc.view_audit_trail", "helpdesk.view_all_tickets", "helpdesk.view_helpdesk_metrics",
]

HUMAN_ROLES = [
    SALES_REP, CONTRACT_REVIEWER, FINANCE_MANAGER, CONTROLLER, BILLING_SPECIALIST,
    CASH_APPLICATION, COLLECTOR, HELP_DESK_AGENT, AUDITOR,
]


def _permission_index() -> dict[str, int]:
    """The id of every permission of the installed apps by "app_label.codename", in one query."""
    rows = Permission.objects.values_list("pk", "content_type__app_label", "codename")
    return {f"{app_label}.{codename}": pk for pk, app_label, codename in rows}


def _permission(label: str, index: dict[str, int]) -> int:
    try:
        return index[label]
    except KeyError:
        raise LookupError(f"Permission {label} does not exist: fix otc/roles.py or run migrate.") from None


def _auditor_permissions(index: dict[str, int]) -> list[int]:
    views = [pk for label, pk in index.items()
             if label.split(".", 1)[0] in PROJECT_APPS and label.split(".", 1)[1].startswith("view_")]
    return [*views, *(_permission(p, index) for p in AUDITOR_EXTRA)]


@transaction.atomic
def ensure_roles() -> dict[str, int]:
    """Create every role group and set exactly its permissions. Safe to run any number of times.
    A fixed handful of queries whatever the number of roles: the permissions in one read, the
    groups in one read (and one insert of the missing), the role grants in one read, then one
    delete and one insert of the differences."""
    index = _permission_index()
    wanted: dict[str, set[int]] = {}
    for role, labels in ROLE_PERMISSIONS.items():
        wanted[role] = set(_auditor_permissions(index) if role == AUDITOR else [_permission(p, index) for p in labels])
    groups = {g.name: g for g in Group.objects.filter(name__in=list(wanted))}
    missing = [Group(name=name) for name in wanted if name not in groups]
    if missing:
        Group.objects.bulk_create(missing)
        groups = {g.name: g for g in Group.objects.filter(name__in=list(wanted))}
    grant = Group.permissions.through
    have: dict[int, set[int]] = {g.pk: set() for g in groups.values()}
    for group_id, permission_id in grant.objects.filter(group_id__in=list(have)).values_list("group_id",
                                                                                           "permission_id"):
        have[group_id].add(permission_id)
    removals: list[Q] = []
    to_add = []
    for name, permission_ids in wanted.items():
        group_id = groups[name].pk
        if extra := have[group_id] - permission_ids:
            removals.append(Q(group_id=group_id, permission_id__in=sorted(extra)))
        to_add += [grant(group_id=group_id, permission_id=pk) for pk in sorted(permission_ids - have[group_id])]
    if removals:
        grant.objects.filter(reduce(operator.or_, removals)).delete()
    if to_add:
        grant.objects.bulk_create(to_add)
    return {name: len(permission_ids) for name, permission_ids in wanted.items()}


# --- write-offs (collections_app, issue 11) ----------------------------------------------------
_WRITEOFF_READ = ["collections_app.view_writeoff", "collections_app.view_writeoffbatch",
                  "collections_app.view_writeoffpolicy"]
ROLE_PERMISSIONS[COLLECTOR] += [*_WRITEOFF_READ, "collections_app.request_writeoff"]
ROLE_PERMISSIONS[FINANCE_MANAGER] += [*_WRITEOFF_READ, "collections_app.request_writeoff",
                                      "collections_app.approve_writeoff", "collections_app.post_writeoff"]
ROLE_PERMISSIONS[CONTROLLER] += [*_WRITEOFF_READ, "collections_app.approve_writeoff", "collections_app.post_writeoff",
                                 "collections_app.manage_writeoff_policy"]
ROLE_PERMISSIONS[INTEGRATION] += ["collections_app.view_writeoff", "collections_app.request_writeoff"]
# --- collections: portfolios, worklist, activities, disputes, promises (issue 10, i10a) ----------
_COLLECTIONS_WORK = [
    "collections_app.view_worklist", "collections_app.view_collectorassignment",
    "collections_app.view_assignmentrule", "collections_app.view_collectorassignmentchange",
    "collections_app.view_dispute", "collections_app.view_disputeline", "collections_app.manage_dispute",
    "collections_app.view_promisetopay", "collections_app.view_promiseitem", "collections_app.manage_promise",
    "receivables.view_aging", "collections_app.view_activity", "collections_app.add_activity",
]
ROLE_PERMISSIONS[COLLECTOR] += [*_COLLECTIONS_WORK, "billing.view_delivery"]
ROLE_PERMISSIONS[FINANCE_MANAGER] += [*_COLLECTIONS_WORK, "collections_app.manage_portfolio",
                                      "collections_app.view_collections_manager"]
ROLE_PERMISSIONS[CONTROLLER] += ["collections_app.view_worklist", "collections_app.manage_portfolio",
                                 "collections_app.view_collections_manager", "collections_app.view_dispute",
                                 "collections_app.view_promisetopay"]
ROLE_PERMISSIONS[BILLING_SPECIALIST] += ["collections_app.view_dispute", "collections_app.manage_dispute"]
ROLE_PERMISSIONS[INTEGRATION] += ["collections_app.view_dispute", "collections_app.manage_dispute",
                                  "collections_app.view_promisetopay", "collections_app.manage_promise",
                                  "collections_app.view_worklist"]
