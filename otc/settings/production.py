"""Production: PostgreSQL, Redis, real Celery workers, HTTPS. Required: SECRET_KEY, DATABASE_URL,
REDIS_URL, ALLOWED_HOSTS. Served by gunicorn; static files by whitenoise."""

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from .base import *  # noqa: F403
from .base import DATABASE_POOL_MODE, DEV_SECRET_KEY, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# The development default and the example in .env.example are public: refuse to start with them.
KNOWN_SECRET_KEYS = {DEV_SECRET_KEY, "change-me-to-a-long-random-string-of-at-least-50-characters-0123456789"}
if SECRET_KEY in KNOWN_SECRET_KEYS or "change-me" in SECRET_KEY or "insecure" in SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development or example key, or shorter than 50 characters: set a long random one "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# Redis is required: the cache (throttling) and the Celery broker/result backend.
REDIS_URL = env.str("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

# collectstatic runs at image build time into STATIC_ROOT; whitenoise serves it.
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# collectstatic keeps (and compresses, gzip and Brotli) only the hashed copy of each file: every
# reference goes through {% static %} / static(), which name the hashed file, and the unhashed copies
# were a second set to compress and ship. Source maps (.map, half of the bytes: the API docs' bundles)
# are served as they are: only a browser's developer tools fetch them. A quarter of the compression
# work it was (tests/test_deployment.py runs it; decision 0018, session 9).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container healthchecks speak plain HTTP inside the network
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)  # preloading is hard to undo: opt in
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "preload not set": off on purpose (docs/operations.md)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
CSRF_COOKIE_HTTPONLY = True

# Two-factor is required for Controllers and administrators (superusers) in production.
OTC_2FA_REQUIRED_ROLES = env.list("OTC_2FA_REQUIRED_ROLES", default=["Controller"])
OTC_2FA_REQUIRED_FOR_SUPERUSERS = env.bool("OTC_2FA_REQUIRED_FOR_SUPERUSERS", default=True)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=True)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Scale-out: workers through pgbouncer in transaction mode (docs/operations.md#scale-out) ---
if DATABASE_POOL_MODE == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
