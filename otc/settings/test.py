"""Tests: SQLite in memory unless DATABASE_URL points at PostgreSQL; Celery eager; locmem mail."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
if not env.str("DATABASE_URL", default=""):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "ATOMIC_REQUESTS": False}}
else:
    # A test database is thrown away: its commits need not wait for the WAL to reach the disk
    # (about 3.5 ms a commit here, against 0.3 ms). That is every commit of the template's migrate,
    # of the transactional tests (live server, browser, races) and of their flushes. Crash safety
    # is unchanged: PostgreSQL only loses the last commits of a crash, never consistency.
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = f"{_options.get('options', '')} -c synchronous_commit=off".strip()
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://localhost/"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "10000/min", "anon": "10000/min"}}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# One marked test (tests/otc/test_tasks.py) runs a real `celery -A otc worker` subprocess with
# these settings plus OTC_TEST_REAL_CELERY=1: broker and result backend on REDIS_URL, not eager.
if env.bool("OTC_TEST_REAL_CELERY", default=False):
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_URL = env.str("REDIS_URL")
    CELERY_RESULT_BACKEND = env.str("REDIS_URL")

# No collectstatic in tests: whitenoise looks files up per request instead of warning that
# STATIC_ROOT is missing; the live server serves static files from the finders.
WHITENOISE_AUTOREFRESH = True
