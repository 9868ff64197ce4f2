"""Collections: API routes under /api/v1/."""

urlpatterns: list = []

from rest_framework.routers import SimpleRouter  # noqa: E402

from .writeoffs import WriteOffViewSet  # noqa: E402

_writeoffs = SimpleRouter()
_writeoffs.register("write-offs", WriteOffViewSet, basename="write-off")
urlpatterns += _writeoffs.urls
