"""Webhooks for administrators and the owners of API clients: subscriptions, their delivery
log, replay, secret rotation, enable/disable. Auditors read. Thin: the services decide."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from otc.errors import DomainError
from otc.listing import sortable, sorted_page
from otc.models import WebhookAttempt, WebhookDelivery
from otc.registry import registry

from . import services


class SubscriptionForm(forms.Form):
    client = forms.ModelChoiceField(queryset=None, label="API client")
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https", help_text="Where the signed POSTs go (https in production).")
    event_types = forms.MultipleChoiceField(choices=(), widget=forms.SelectMultiple(attrs={"size": 12}),
                                            help_text="The object's API scope is needed to receive its events.")
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = services.clients_manageable_by(user)
        families = sorted({e.subject_type for e in registry.webhook_events.values()})
        self.fields["event_types"].choices = [
            *((f"{f}.*", f"{f}.* (every {f} event)") for f in families),
            *((t, f"{t}: {e.description}") for t, e in sorted(registry.webhook_events.items())),
        ]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select | forms.SelectMultiple)
                                          else "form-control")


def _may_see_page(user) -> bool:
    return services.subscriptions_visible_to(user).exists() or services.clients_manageable_by(user).exists() or \
        user.has_perm("otc.view_webhooksubscription")


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_integration or not _may_see_page(user):
        raise PermissionDenied
    form = SubscriptionForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription, secret = services.webhook_subscription_create(
                client_id=data["client"].pk, url=data["url"], event_types=list(data["event_types"]), by=user,
                description=data["description"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            request.session["webhook_secret"] = {"id": subscription.pk, "secret": secret}
            return redirect("webhook_detail", pk=subscription.pk)
    subscriptions = services.subscriptions_visible_to(user).select_related("client", "owner")
    return sorted_page(request, SUBSCRIPTION_SORTS, subscriptions, "otc/webhooks.html", {
        "form": form if services.clients_manageable_by(user).exists() else None,
    })


SUBSCRIPTION_SORTS = sortable("webhooks", {
    "client": ("client__name",), "url": ("url",), "owner": ("owner__username",),
    "state": ("-is_active", "consecutive_failures"),
}, default="client")


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(services.subscriptions_visible_to(request.user), pk=pk)
    shown = request.session.pop("webhook_secret", None)
    secret = shown["secret"] if shown and shown.get("id") == subscription.pk else None
    deliveries = (WebhookDelivery.objects.filter(subscription=subscription).order_by("-id")
                  .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-at", "-id"))))
    status = request.GET.get("status")
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    return render(request, "otc/webhook_detail.html", {
        "subscription": subscription, "page": page, "secret": secret, "status": status,
        "statuses": WebhookDelivery.Status.choices, "may_manage": services.may_manage(request.user, subscription),
    })


@login_required
@require_POST
def webhook_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = request.user
    try:
        if action == "rotate":
            _, secret = services.webhook_secret_rotate(subscription_id=pk, by=user,
                                                       overlap_hours=_int(request.POST.get("overlap_hours"), 24))
            request.session["webhook_secret"] = {"id": pk, "secret": secret}
            messages.success(request, "New secret made; the old one keeps signing during the overlap.")
        elif action in ("enable", "disable"):
            services.webhook_subscription_set_active(subscription_id=pk, by=user, active=action == "enable")
            messages.success(request, f"Subscription {action}d.")
        elif action == "delete":
            services.webhook_subscription_delete(subscription_id=pk, by=user)
            messages.success(request, "Subscription deleted.")
            return redirect("webhooks")
        else:
            raise PermissionDenied
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message)
        messages.error(request, exc.message)
    return redirect("webhook_detail", pk=pk)


@login_required
@require_POST
def webhook_replay(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    try:
        services.webhook_delivery_replay(delivery_id=delivery_id, by=request.user)
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message)
        messages.error(request, exc.message)
    else:
        messages.success(request, "Delivery queued to be sent again (same event id).")
    return redirect("webhook_detail", pk=pk)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
