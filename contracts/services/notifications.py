"""Plain-text e-mails about the review workflow, sent by the Celery tasks after commit.

A retried task does not send twice: the cache remembers (atomically, with `cache.add`) which
message for which submission or decision went out."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from otc.models import User
from otc.roles import CONTRACT_REVIEWER

from ..models import Approval, ContractVersion
from ..selectors import latest_assessment

SENT_TTL = 60 * 60 * 24 * 7


def _link(version: ContractVersion) -> str:
    base = getattr(settings, "OTC_BASE_URL", "") or ""
    try:
        return base + reverse("contracts:detail", args=[version.contract_id])
    except NoReverseMatch:
        return ""


def _send(key: str, template: str, context: dict, recipients: list[str]) -> int:
    recipients = sorted({r for r in recipients if r})
    if not recipients or not cache.add(key, 1, SENT_TTL):
        return 0
    subject = render_to_string(f"contracts/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"contracts/email/{template}_body.txt", context)
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients]
    try:
        return send_mass_mail(messages, fail_silently=False)
    except Exception:
        cache.delete(key)  # let the retry send it
        raise


def send_submitted(version_id: int) -> int:
    """Tell the contract reviewers that a version awaits review. Returns e-mails sent."""
    version = (ContractVersion.objects.select_related("contract__customer", "submitted_by")
               .filter(pk=version_id).first())
    if version is None or version.submitted_at is None:
        return 0
    reviewers = User.objects.filter(groups__name=CONTRACT_REVIEWER, is_active=True).exclude(email="")
    exclude = {version.submitted_by_id, version.contract.sales_owner_id, version.contract.created_by_id}
    recipients = [u.email for u in reviewers if u.id not in exclude]
    context = {"version": version, "contract": version.contract, "assessment": latest_assessment(version),
               "link": _link(version)}
    return _send(f"contracts:mail:submitted:{version.id}:{version.submitted_at.isoformat()}", "submitted",
                 context, recipients)


def send_decision(version_id: int, decision: str) -> int:
    """Tell the submitter and the sales owner what was decided. Returns e-mails sent."""
    version = (ContractVersion.objects.select_related("contract__customer", "contract__sales_owner", "submitted_by")
               .filter(pk=version_id).first())
    if version is None:
        return 0
    approval = (Approval.objects.filter(version=version).select_related("approver")
                .order_by("-decided_at", "-id").first())
    recipients = [u.email for u in (version.submitted_by, version.contract.sales_owner) if u is not None]
    labels = {"approved": "approved", "rejected": "rejected", "changes_requested": "sent back for changes"}
    context = {"version": version, "contract": version.contract, "decision": decision,
               "decision_label": labels.get(decision, decision), "approval": approval, "link": _link(version)}
    marker = approval.pk if approval else "none"
    return _send(f"contracts:mail:decision:{version.id}:{decision}:{marker}", "decision", context, recipients)
