"""The product catalogue: search and page through products (`contracts.view_product`); add
(`contracts.add_product`) and change (`contracts.change_product`) them, with their history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from otc.actions import service_on_form
from otc.history import history_rows
from otc.listing import sortable, sorted_page

from ..forms_policy import ProductForm, ProductSearchForm
from ..models import Product
from ..product_services import product_create, product_update

PAGE_SIZE = 50


@login_required
@permission_required("contracts.view_product", raise_exception=True)
def product_list(request: HttpRequest) -> HttpResponse:
    form = ProductSearchForm(request.GET or None)
    products = Product.objects.all()
    if form.is_valid():
        q = form.cleaned_data.get("q", "").strip()
        if q:
            products = products.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q))
        active = form.cleaned_data.get("active")
        if active:
            products = products.filter(is_active=active == "yes")
    return sorted_page(request, PRODUCT_SORTS, products, "contracts/product_list.html", {"form": form}, page_size=PAGE_SIZE)


PRODUCT_SORTS = sortable("contracts:products", {
    "sku": ("sku",), "name": ("name",), "unit": ("unit",), "price": ("currency", "default_price"),
    "account": ("revenue_account_code",), "tax": ("tax_category",), "status": ("-is_active",),
}, default="sku")


@login_required
@permission_required("contracts.add_product", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data.get("reason") or "created"
        product = service_on_form(form, lambda: product_create(data=form.service_data(), by=request.user, reason=reason))
        if product is not None:
            messages.success(request, f"Product {product.sku} added.")
            return redirect("contracts:products")
    return render(request, "contracts/product_form.html", {"form": form, "product": None})


@login_required
@permission_required("contracts.change_product", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    form = ProductForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data.get("reason") or ""
        saved = service_on_form(form, lambda: product_update(product_id=product.pk, data=form.service_data(), by=request.user,
                                                   reason=reason))
        if saved is not None:
            messages.success(request, f"Product {saved.sku} saved.")
            return redirect("contracts:products")
    history = history_rows(product) if request.user.has_perm("otc.view_audit_trail") else None
    return render(request, "contracts/product_form.html", {"form": form, "product": product, "history": history})
