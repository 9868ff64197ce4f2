"""Every scope an API client can hold. An endpoint names the scope each action needs."""

SCOPES: dict[str, str] = {
    "customers:read": "Read customers and contacts",
    "customers:write": "Create, update and upsert customers",
    "ledger:read": "Read legal entities, accounts, journal entries and open items (the general ledger)",
    "statements:read": "Read customer statements (PDF) and nothing else of the ledger",
    "contracts:read": "Read contracts, findings and approvals",
    "contracts:write": "Create, upsert and submit contracts; post usage",
    "invoices:read": "Read invoices, PDFs and payment status",
    "credit_notes:read": "Read credit notes",
    "credit_notes:write": "Request credit notes",
    "receipts:read": "Read receipts",
    "receipts:write": "Post receipts from a bank integration",
    "tickets:read": "Read help-desk tickets and list a customer's tickets",
    "tickets:write": "File help-desk tickets on a sales rep's behalf and add replies",
    "webhooks:manage": "Manage this client's own webhook subscriptions; read and replay their deliveries",
    "reports:read": "Read AR aging and KPI reports (of the customers the client may see)",
}

# --- bad-debt reserve (issue 11) ---
SCOPES["reserve:read"] = "Read the bad-debt reserve per legal entity and date with its lines (the calculation)"
# --- write-offs (issue 11) ---
SCOPES["write_offs:read"] = "Read write-off requests, their lines, approvals and recoveries"
SCOPES["write_offs:write"] = "Request write-offs (they are approved and posted in the app)"
# --- collections: worklist, disputes, promises (issue 10, i10a) ---
SCOPES.update({
    "collections:read": "Read a customer's collections status, disputes and promises to pay",
    "collections:write": "Open disputes and record promises to pay (and payment plans)",
})
