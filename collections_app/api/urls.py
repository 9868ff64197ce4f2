"""Collections: API routes under /api/v1/."""

urlpatterns: list = []

from django.urls import path  # noqa: E402

from collections_app.api.reserve import ReserveView  # noqa: E402

urlpatterns += [path("reserve/", ReserveView.as_view(), name="reserve")]
from rest_framework.routers import SimpleRouter  # noqa: E402

from .writeoffs import WriteOffViewSet  # noqa: E402

_writeoffs = SimpleRouter()
_writeoffs.register("write-offs", WriteOffViewSet, basename="write-off")
urlpatterns += _writeoffs.urls
from . import urls_worklist  # noqa: E402

urlpatterns += urls_worklist.urlpatterns
