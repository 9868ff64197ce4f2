"""One permission class for every endpoint.

A view declares, per action, the Django permission it needs (`action_perms`), the object rule
checked on a single record (`object_perms`, evaluated by `rules`), and the API scope a token
client must hold (`action_scopes`). An action missing from `action_perms` is refused: every
endpoint has an explicit permission.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from otc.models import ApiClient


def _action(view) -> str:
    return getattr(view, "action", None) or view.request.method.lower()


def _method_not_allowed(request, view) -> bool:
    """True when the view has no handler for the method (it will raise MethodNotAllowed)."""
    method = request.method.lower()
    if method == "options":
        return False
    if hasattr(view, "action_map"):  # a viewset: only the routed methods exist
        return method not in view.action_map
    return getattr(view, method, None) is None or method not in view.http_method_names


class ActionPermission(BasePermission):
    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if _method_not_allowed(request, view):
            return True  # let the view answer 405 Method Not Allowed instead of a misleading 403
        action = _action(view)
        perms = getattr(view, "action_perms", {})
        if action not in perms:
            self.message = f"The action '{action}' is not open to anyone."
            return False
        if isinstance(request.auth, ApiClient):
            scope = getattr(view, "action_scopes", {}).get(action)
            accepted = scope if isinstance(scope, tuple | list) else (scope,)  # a tuple: any one of them
            if scope is None or not set(accepted) & set(request.auth.scopes):
                self.message = f"This API client lacks the scope '{' or '.join(map(str, accepted))}'."
                return False
        needed = perms[action]
        if needed and not user.has_perm(needed):
            self.message = f"Your role lacks the permission {needed}."
            return False
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        rule = getattr(view, "object_perms", {}).get(_action(view))
        if rule is None:
            return True
        if request.user.has_perm(rule, obj):
            return True
        self.message = "You may not see or change this record."
        return False
