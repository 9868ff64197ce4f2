from django.http import HttpRequest

from .registry import registry, visible


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": visible(user, registry.nav)}
