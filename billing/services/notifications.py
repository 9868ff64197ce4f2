"""Plain-text e-mails to finance staff about credit notes, sent by Celery tasks after commit.

When a credit note is requested, the people who may approve it are told: they hold
billing.approve_creditnote, are active people with an e-mail address, did not request it
(segregation of duties) and have a `credit_note` approval limit that covers its total. A retried
task does not send twice: the cache remembers (atomically, `cache.add`) which notice went out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from billing.models import CreditNote
from otc.models import User
from otc.money import format_amount
from otc.services import approval_limit

SENT_TTL = 60 * 60 * 24 * 7


def credit_note_approvers(note: CreditNote) -> list[User]:
    """Who may approve `note` (rules in the module docstring), by e-mail address."""
    perm = Permission.objects.get(content_type__app_label="billing", codename="approve_creditnote")
    candidates = (User.objects.filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True),
                                      is_active=True, kind=User.Kind.HUMAN)
                  .exclude(email="").exclude(pk=note.requested_by_id).distinct().order_by("email"))
    return [user for user in candidates if note.gross_total <= approval_limit(
        user=user, kind="credit_note", currency=note.currency, legal_entity_id=note.legal_entity_id)]


def send_credit_note_awaiting_approval(credit_note_id: int) -> int:
    """E-mail the approvers of a requested credit note. Returns e-mails sent (0 when it was
    decided meanwhile, nobody may approve it, or the notice went out already)."""
    note = (CreditNote.objects.select_related("invoice", "customer", "requested_by", "legal_entity")
            .filter(pk=credit_note_id).first())
    if note is None or note.status != CreditNote.Status.REQUESTED:
        return 0
    recipients = [user.email for user in credit_note_approvers(note)]
    key = f"billing:mail:credit_note_requested:{note.pk}"
    if not recipients or not cache.add(key, 1, SENT_TTL):
        return 0
    context = {"note": note, "invoice": note.invoice, "customer": note.customer,
               "gross_total": format_amount(note.gross_total, note.currency),
               "link": (getattr(settings, "OTC_BASE_URL", "") or "") + reverse("billing:credit_note_detail",
                                                                              args=[note.pk])}
    subject = render_to_string("billing/email/credit_note_approval_subject.txt", context).strip()
    body = render_to_string("billing/email/credit_note_approval_body.txt", context)
    try:
        return send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients],
                              fail_silently=False)
    except Exception:
        cache.delete(key)  # let the retry send it
        raise
