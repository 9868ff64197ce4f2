"""Help-desk services: every write that matters (filing, replies, transitions, assignment,
SLA refresh, actions that do the work, inbound mail, data change requests)."""

from .actions import (
    action_credit_request,
    action_payment_status,
    action_portal_resend,
    action_send_invoice_copy,
    data_change_approve,
    data_change_reject,
    tickets_follow_credit_notes,
)
from .mail import InboundMail, mail_receive
from .tickets import (
    AttachmentIn,
    queue_ensure,
    ticket_assign,
    ticket_comment,
    ticket_file,
    ticket_link,
    ticket_merge,
    ticket_pick,
    ticket_rate,
    ticket_set_priority,
    ticket_sla_refresh,
    ticket_transition,
    ticket_watch,
    tickets_close_resolved,
    tickets_sla_sweep,
)

__all__ = [
    "AttachmentIn", "InboundMail", "action_credit_request", "action_payment_status", "action_portal_resend",
    "action_send_invoice_copy", "data_change_approve", "data_change_reject", "mail_receive", "queue_ensure",
    "ticket_assign", "ticket_comment", "ticket_file", "ticket_link", "ticket_merge", "ticket_pick", "ticket_rate",
    "ticket_set_priority", "ticket_sla_refresh", "ticket_transition", "ticket_watch", "tickets_close_resolved",
    "tickets_follow_credit_notes", "tickets_sla_sweep",
]
