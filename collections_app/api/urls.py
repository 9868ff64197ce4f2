"""Collections: API routes under /api/v1/."""

urlpatterns: list = []

from . import urls_worklist  # noqa: E402

urlpatterns += urls_worklist.urlpatterns
