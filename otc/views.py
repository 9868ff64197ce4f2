from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .api.errors import api_not_found, is_api_request, json_error
from .errors import DomainError
from .forms import ApprovalLimitForm
from .listing import sortable, sorted_page
from .models import ApprovalLimit
from .registry import registry, render_panels
from .services import approval_limit_delete, approval_limit_save


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the work queues that the user's roles give them, registered by the apps."""
    panels = render_panels(request, registry.dashboard)
    return render(request, "otc/home.html", {"panels": panels})


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):
        if is_api_request(request):
            return json_error("payload_too_large", "The request body is too large.", 413)
        return HttpResponse("Request body too large.", status=413, content_type="text/plain")
    if is_api_request(request):
        return json_error("parse_error", "The request could not be read.", 400)
    return HttpResponse("Bad request.", status=400, content_type="text/plain")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return json_error("permission_denied", str(exception or "") or "You do not have permission to do this.", 403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request)
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error("server_error", "Something went wrong on our side; it has been logged. Retry later "
                          "(a request with an Idempotency-Key may be retried with the same key).", 500)
    return render(request, "500.html", status=500)


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


# --- approval limits ------------------------------------------------------------------------

@login_required
@permission_required("otc.view_approvallimit", raise_exception=True)
def approval_limits(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The limits every approval reads. Controllers add and change them here; others read."""
    instance = get_object_or_404(ApprovalLimit, pk=pk) if pk else None
    can_edit = request.user.has_perm("otc.change_approvallimit" if pk else "otc.add_approvallimit")
    form = ApprovalLimitForm(request.POST or None, instance=instance) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            data = {**form.cleaned_data}
            try:
                approval_limit_save(by=request.user, data=data, limit_id=pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Approval limit saved.")
                return redirect("approval_limits")
    limits = ApprovalLimit.objects.select_related("legal_entity", "role", "user")
    return sorted_page(request, LIMIT_SORTS, limits, "otc/approval_limits.html", {"form": form, "editing": instance})


LIMIT_SORTS = sortable("approval_limits", {
    "kind": ("kind", "currency", "legal_entity__code", "role__name", "user__username", "max_amount"),
    "entity": ("legal_entity__code",), "holder": ("user__username", "role__name"), "currency": ("currency",),
    "maximum": ("currency", "max_amount"),
}, default="kind")


@login_required
@require_POST
@permission_required("otc.delete_approvallimit", raise_exception=True)
def approval_limit_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    approval_limit_delete(by=request.user, limit_id=get_object_or_404(ApprovalLimit, pk=pk).pk)
    messages.success(request, "Approval limit deleted.")
    return redirect("approval_limits")
