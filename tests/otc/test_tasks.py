"""Celery: tasks run eagerly in tests; one test runs a real worker against Redis (CI runs it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.contrib.auth.models import Group

from otc import tasks
from otc.roles import HUMAN_ROLES

ROOT = Path(__file__).resolve().parents[2]


def test_ping_runs_in_process_when_eager():
    assert tasks.ping.delay().get(timeout=5) == "pong"


@pytest.mark.django_db
def test_ensure_roles_task_creates_the_roles():
    counts = tasks.ensure_roles.delay().get(timeout=5)

    assert set(HUMAN_ROLES) <= set(counts)
    assert set(HUMAN_ROLES) <= set(Group.objects.values_list("name", flat=True))


def test_tasks_are_registered_under_stable_names():
    from otc.celery import app

    app.loader.import_default_modules()
    assert {"otc.ping", "otc.ensure_roles"} <= set(app.tasks)


@pytest.mark.redis
def test_real_worker_runs_a_task_over_redis(tmp_path):
    redis_url = os.environ["REDIS_URL"]
    queue = f"otc-test-{uuid.uuid4().hex[:10]}"  # our own queue: no other worker picks our task
    log = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "otc.settings.test", "OTC_TEST_REAL_CELERY": "1",
           "REDIS_URL": redis_url}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "otc", "worker", "--pool=solo", "--loglevel=INFO",
             "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    # Not the current app: shared tasks would bind to it and every later .delay() in this test
    # process would go to Redis instead of running eagerly.
    sender = Celery("otc-test-sender", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        result = sender.send_task("otc.ping", queue=queue)
        assert result.get(timeout=90) == "pong"
        assert result.state == "SUCCESS"
    finally:
        sender.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
    text = log.read_text()
    assert "otc.ping" in text and "succeeded" in text, text
    from celery import current_app

    assert current_app.main == "otc" and current_app.conf.task_always_eager  # the suite's app is untouched


def test_workers_keep_their_database_connection_across_tasks(monkeypatch):
    """CELERY_DB_REUSE_MAX is set (Celery's Django fixup no longer closes the connection around
    every task); otc.celery closes a broken or obsolete one (CONN_MAX_AGE) around worker tasks,
    never around an eager task, which runs inside its caller's transaction."""
    from types import SimpleNamespace

    import otc.celery

    assert otc.celery.app.conf.get("CELERY_DB_REUSE_MAX", 0) >= 1
    calls = []
    monkeypatch.setattr("django.db.close_old_connections", lambda: calls.append(1))
    otc.celery.close_old_connections(sender=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert calls == []
    otc.celery.close_old_connections(sender=SimpleNamespace(request=SimpleNamespace(is_eager=False)))
    assert calls == [1]
