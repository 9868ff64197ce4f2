"""The production shape, checked without a Docker engine: the compose file, the production
settings (`check --deploy`), static files through whitenoise's manifest storage, the migrate
step exactly as compose runs it, and gunicorn serving the app."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


@pytest.mark.parametrize("key", [
    "dev-insecure-otc-secret-key-change-me-in-production-0123456789",  # the development default
    "change-me-to-a-long-random-string-of-at-least-50-characters-0123456789",  # .env.example's
    "short-but-random-Zq9",
])
def test_production_refuses_the_development_or_example_secret_key(tmp_path, key):
    result = manage(production_env(tmp_path, SECRET_KEY=key), "check")

    assert result.returncode != 0
    assert "SECRET_KEY is the development or example key" in result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def healthcheck_text(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "otc.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "ALLOWED_HOSTS": "otc.example.com,localhost,127.0.0.1",
        "OTC_DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


# --- docker-compose.yml ---------------------------------------------------------------------

def test_compose_has_the_production_services(compose):
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(compose["services"])


def test_compose_backing_services_have_healthchecks(compose):
    services = compose["services"]
    assert "pg_isready" in healthcheck_text(services["postgres"])
    assert "redis-cli ping" in healthcheck_text(services["redis"])
    assert "/healthz" in healthcheck_text(services["web"])


def test_compose_migrate_step_runs_first(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "setup_deployment"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_app_commands(compose):
    services = compose["services"]
    assert command_text(services["web"]).startswith("gunicorn otc.wsgi:application --bind=0.0.0.0:8000")
    assert command_text(services["worker"]).startswith("celery -A otc worker")
    # The worker serves the default queue and the documents queue the PDF/e-mail tasks are routed to.
    from django.conf import settings

    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert f"--queues={','.join(sorted(queues))}" in command_text(services["worker"])
    beat = command_text(services["beat"])
    assert beat.startswith("celery -A otc beat")
    assert "--scheduler django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_compose_app_services_use_production_settings_and_the_env_file(compose):
    for name in ("migrate", "web", "worker", "beat"):
        service = compose["services"][name]
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "otc.settings.production", name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://"), name
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0", name
        assert service["env_file"] == ".env", name
        assert service["build"] == ".", name


def test_env_example_names_the_required_variables():
    names = {line.split("=", 1)[0].lstrip("# ").strip() for line in (ROOT / ".env.example").read_text().splitlines()
             if "=" in line}
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD", "DATABASE_URL", "REDIS_URL"} <= names


def test_dockerfile_builds_the_production_image():
    text = (ROOT / "Dockerfile").read_text()
    assert text.splitlines()[1] == "FROM python:3.11-slim"
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b"):
        assert library in text
    assert "manage.py collectstatic --noinput" in text
    assert "DJANGO_SETTINGS_MODULE=otc.settings.production" in text
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", ".env"} <= set(ignored)


# --- production settings --------------------------------------------------------------------

def test_check_deploy_reports_no_issues(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    # One check is silenced on purpose: security.W021 (HSTS preload), off by default (issue 15);
    # with SECURE_HSTS_PRELOAD=true nothing is silenced.
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."
    assert "WARNING" not in result.stderr
    preload = manage(production_env(tmp_path, SECURE_HSTS_PRELOAD="true"), "check", "--deploy", "--fail-level", "WARNING")
    assert preload.stdout.strip() == "System check identified no issues (0 silenced).", preload.stderr


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    result = manage(env, "check")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """collectstatic once with whitenoise's compressed manifest storage."""
    tmp_path = tmp_path_factory.mktemp("prod")
    env = production_env(tmp_path)
    result = manage(env, "collectstatic", "--noinput", "-v1", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(env["STATIC_ROOT"]), env


def test_collectstatic_with_manifest_storage_has_no_broken_references(collected):
    static_root, _ = collected
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]

    for asset in ("vendor/bootstrap/bootstrap.min.css", "vendor/htmx/htmx.min.js", "otc/app.css",
                  "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "admin/css/base.css"):
        assert asset in manifest, asset
        hashed = static_root / manifest[asset]
        assert hashed.is_file()
        assert hashed.with_name(hashed.name + ".gz").is_file()  # compressed for whitenoise
        assert hashed.with_name(hashed.name + ".br").is_file()
        assert not (static_root / asset).exists()  # only the hashed copy is kept
    source_map = static_root / manifest["drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js.map"]
    assert source_map.is_file() and not source_map.with_name(source_map.name + ".gz").exists()


def test_setup_deployment_runs_migrate_then_every_schedule_command():
    """The compose migrate step (`setup_deployment`) runs migrate first, then `ensure_roles` and
    every command that registers a beat schedule (a `*_schedule` command or one with `--schedule`):
    a new schedule command that is not added to its steps fails here."""
    from django.core.management import get_commands, load_command_class

    from otc.management.commands.setup_deployment import STEPS, step_text

    names = [name for name, _ in STEPS]
    assert names[:2] == ["migrate", "ensure_roles"]
    assert len(set(names)) == len(names)
    schedulers = set()
    for name, app in get_commands().items():
        if app.startswith("django") or app in {"rest_framework", "simple_history"}:
            continue
        command = load_command_class(app, name)
        options = {action.dest for action in command.create_parser("manage.py", name)._actions}
        if name.endswith("_schedule") or "schedule" in options:
            schedulers.add(name)
    assert set(names[2:]) == schedulers
    for name, options in STEPS:
        if name.endswith("_schedule"):
            assert options == {}, name
        elif name != "migrate":
            assert options in ({}, {"schedule": True}), name
    assert step_text("migrate", {"interactive": False}) == "manage.py migrate --noinput"
    assert step_text("billing_run", {"schedule": True}) == "manage.py billing_run --schedule"


def test_migrate_step_as_compose_runs_it(compose, tmp_path):
    """The compose migrate service's command, run as it is (one process): migrate from zero under
    the production settings, then every step's own output, in order."""
    from otc.management.commands.setup_deployment import STEPS, step_text

    env = production_env(tmp_path)
    argv = compose["services"]["migrate"]["command"]

    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    headers = [line.removeprefix("==> ") for line in result.stdout.splitlines() if line.startswith("==> ")]
    assert headers == [step_text(name, options) for name, options in STEPS]
    assert "Applying otc.0001_initial... OK" in result.stdout
    assert "Auditor: " in result.stdout
    assert "'Bad-debt reserve (monthly, after the month-end aging snapshot)': daily at 03:0" in result.stdout
    assert "Scheduled 'billing: overdue invoice events' daily at 00:15." in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_gunicorn_serves_the_app_and_static_files(compose, collected):
    static_root, env = collected
    web = compose["services"]["web"]["command"]
    assert web[:2] == ["gunicorn", "otc.wsgi:application"]
    port = _free_port()
    argv = [str(BIN / "gunicorn"), "otc.wsgi:application", f"--bind=127.0.0.1:{port}", "--workers=1",
            "--timeout=60", "--forwarded-allow-ips=*"]
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, _ = _get(base + "/healthz", {"Host": "localhost"})
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        # The container healthcheck speaks plain HTTP: /healthz is exempt from the HTTPS redirect.
        assert (status, body) == (200, b"ok")

        status, _, headers = _get(base + "/accounts/login/", {"Host": "otc.example.com"})
        assert status == 301
        assert headers["Location"] == "https://otc.example.com/accounts/login/"

        manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
        hashed = manifest["vendor/bootstrap/bootstrap.min.css"]
        status, body, headers = _get(f"{base}/static/{hashed}",
                                     {"Host": "otc.example.com", "X-Forwarded-Proto": "https"})
        assert status == 200
        assert body == (static_root / hashed).read_bytes()
        assert "max-age=315360000" in headers["Cache-Control"]

        status, _, headers = _get(base + "/nope", {"Host": "evil.example.net", "X-Forwarded-Proto": "https"})
        assert status == 400  # not in ALLOWED_HOSTS
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_gunicorn_is_importable_and_matches_the_image_command():
    import gunicorn

    assert gunicorn.version_info >= (20, 0)
    cmd = (ROOT / "Dockerfile").read_text().split('CMD ["', 1)[1].split('"]', 1)[0].split('", "')
    assert cmd[:2] == ["gunicorn", "otc.wsgi:application"]
    assert shlex.split(" ".join(cmd))[2].startswith("--bind=0.0.0.0:")


# --- scale-out (issue 18): documents service, pgbouncer in transaction mode ----------------------

def test_compose_documents_service_scales_apart_from_the_workers(compose):
    services = compose["services"]
    documents = services["documents"]
    command = command_text(documents)
    assert command.startswith("celery -A otc worker") and "--queues=documents " in f"{command} "
    assert "--prefetch-multiplier=1" in command  # a long chunk of PDFs does not hold others back
    assert documents["environment"]["DJANGO_SETTINGS_MODULE"] == "otc.settings.production"
    assert documents["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("worker", "documents"):  # `docker compose up --scale worker=N --scale documents=M`
        assert "container_name" not in services[name] and "ports" not in services[name], name


def test_compose_workers_reach_postgres_through_pgbouncer_in_transaction_mode(compose):
    services = compose["services"]
    pgbouncer = services["pgbouncer"]
    assert pgbouncer["environment"]["POOL_MODE"] == "transaction"
    image, _, tag = pgbouncer["image"].partition(":")
    assert image == "edoburu/pgbouncer" and tag.startswith("v1.") and tag != "latest"  # a tested version
    assert "@postgres:5432/" in pgbouncer["environment"]["DATABASE_URL"]
    assert pgbouncer["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "documents"):
        environment = services[name]["environment"]
        assert "@pgbouncer:5432/" in environment["DATABASE_URL"], name
        assert environment["DATABASE_POOL_MODE"] == "transaction", name
        assert services[name]["depends_on"]["pgbouncer"]["condition"] == "service_healthy", name
    assert "@postgres:5432/" in services["web"]["environment"]["DATABASE_URL"]  # web and migrate connect directly
