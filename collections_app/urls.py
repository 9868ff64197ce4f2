"""Collections: HTML routes under /collections/. Each area keeps its routes in its own module
(`urls_<area>.py`) and adds one line here."""

app_name = "collections_app"
urlpatterns: list = []

from collections_app import urls_reserve  # noqa: E402

urlpatterns += urls_reserve.urlpatterns
from . import urls_writeoffs  # noqa: E402

urlpatterns += urls_writeoffs.urlpatterns
from collections_app import urls_dunning  # noqa: E402 - dunning, credit holds, agency (i10b)

urlpatterns += urls_dunning.urlpatterns
from . import urls_worklist  # noqa: E402

urlpatterns += urls_worklist.urlpatterns
