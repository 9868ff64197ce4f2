from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from otc import errors
from otc.actions import apply_service_errors

from .. import services
from ..forms import ContactForm
from ..models import Contact
from ..selectors import customers_visible_to


def _visible_contact(request: HttpRequest, pk: int) -> Contact:
    visible = customers_visible_to(request.user)
    return get_object_or_404(Contact.objects.select_related("customer").filter(customer__in=visible), pk=pk)


def _run(request: HttpRequest, form: ContactForm, call) -> bool:
    try:
        call()
    except errors.ValidationFailed as exc:
        apply_service_errors(form, exc, field_messages=True)
        return False
    except errors.NotFound:
        raise Http404
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message)
    return True


@login_required
@permission_required("customers.add_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        def call():
            services.contact_create(customer_id=customer.pk, data=form.service_data(), by=request.user)

        if _run(request, form, call):
            messages.success(request, f"Contact {form.cleaned_data['name']} added.")
            return redirect(customer)
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer, "contact": None})


@login_required
@permission_required("customers.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _visible_contact(request, pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        def call():
            services.contact_update(contact_id=contact.pk, data=form.service_data(), by=request.user)

        if _run(request, form, call):
            messages.success(request, f"Contact {form.cleaned_data['name']} saved.")
            return redirect(contact.customer)
    return render(request, "customers/contact_form.html", {"form": form, "customer": contact.customer, "contact": contact})


@login_required
@permission_required("customers.delete_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _visible_contact(request, pk)
    if request.method == "POST":
        services.contact_delete(contact_id=contact.pk, by=request.user)
        messages.success(request, f"Contact {contact.name} deleted.")
        return redirect(contact.customer)
    return render(request, "customers/contact_confirm_delete.html", {"contact": contact, "customer": contact.customer})
