import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")

app = Celery("otc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(sender=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Workers keep their database connection across tasks (CELERY_DB_REUSE_MAX: Celery's Django
    fixup would otherwise close it before and after every task, so each chunk task of a month-end
    run connected anew). As Django does around a request, a connection that broke or outlived
    CONN_MAX_AGE is closed here, before and after each task. Not for eager tasks: they run inside
    the caller's request or transaction."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections as close

    close()
