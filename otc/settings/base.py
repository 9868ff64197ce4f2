"""Settings shared by every mode. Everything that differs per machine comes from the environment."""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(environ.Env().str("OTC_DATA_DIR", default=str(BASE_DIR / "data")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEV_SECRET_KEY = "dev-insecure-otc-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "rules.apps.AutodiscoverRulesConfig",
    "otc.apps.OtcConfig",
    "customers.apps.CustomersConfig",
    "ledger.apps.LedgerConfig",
    "contracts.apps.ContractsConfig",
    "billing.apps.BillingConfig",
    "receivables.apps.ReceivablesConfig",
    "collections_app.apps.CollectionsAppConfig",
    "helpdesk.apps.HelpdeskConfig",
    "demo.apps.DemoConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "otc.middleware.CommonMiddleware",  # no slash-appending redirects under /api/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "otc.security.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "otc.urls"
WSGI_APPLICATION = "otc.wsgi.application"
AUTH_USER_MODEL = "otc.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account or IP before any password check
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "otc.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'otc.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- help desk: attachments outside the web root; inbound mail signed with this key ---
HELPDESK_ATTACHMENT_ROOT = Path(env.str("HELPDESK_ATTACHMENT_ROOT", default=str(DATA_DIR / "private" / "helpdesk")))
HELPDESK_INBOUND_SIGNING_KEY = env.str("HELPDESK_INBOUND_SIGNING_KEY", default="")

# --- cache (throttling, idempotency helpers) ---
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- e-mail ---
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@otc.example")

# --- Celery: without a broker the tasks run in-process (the embedded default) ---
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # a hostname, or kombu warns "No hostname was supplied"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Workers keep their database connection across tasks: otc/celery.py closes it when it broke or
# is older than CONN_MAX_AGE (as requests do), and Celery's Django fixup every
# CELERY_DB_REUSE_MAX tasks. Unset, the fixup closed it before and after every task, so every
# chunk of a month-end run paid a new PostgreSQL backend. One connection per worker process.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 2}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Documents (PDF rendering, e-mail delivery) have their own queue, so a month-end run's postings
# never wait behind thousands of PDFs; a worker serves both unless told otherwise (docker-compose).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "billing.invoice_publish": {"queue": "documents"},
    "billing.invoices_publish": {"queue": "documents"},
    "billing.invoice_store_pdf": {"queue": "documents"},
    "billing.invoice_deliver": {"queue": "documents"},
    "billing.credit_note_publish": {"queue": "documents"},
    "billing.invoice_void_publish": {"queue": "documents"},
}
CELERY_TIMEZONE = TIME_ZONE

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "otc.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["otc.api.permissions.ActionPermission"],
    "DEFAULT_PARSER_CLASSES": ["otc.api.parsers.StrictJSONParser"],  # JSON bodies only (issue 15)
    "DEFAULT_THROTTLE_CLASSES": ["otc.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env.str("API_THROTTLE_RATE", default="600/min"),
                               "anon": env.str("API_ANON_THROTTLE_RATE", default="60/min")},
    "DEFAULT_PAGINATION_CLASS": "otc.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "otc.api.schema.OtcAutoSchema",
    "EXCEPTION_HANDLER": "otc.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "otc API",
    "DESCRIPTION": "Order-to-cash back office. Token auth per integration client with scopes; "
    "`Idempotency-Key` header on POST; one error shape `{error, message, fields}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiToken": {"type": "http", "scheme": "bearer", "description": "Token otc_xxx from an admin"}
        }
    },
    "SECURITY": [{"ApiToken": []}],
    # Several models have a `status` or `kind`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "ContractStatusEnum": "contracts.models.Contract.Status",
        "ContractVersionStatusEnum": "contracts.models.ContractVersion.Status",
        "ContractLineKindEnum": "contracts.models.ContractLine.Kind",
        "JournalEntryKindEnum": "ledger.models.JournalEntry.Kind",
        "PeriodStatusEnum": "ledger.models.Period.Status",
        "UserKindEnum": "otc.models.User.Kind",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
        "CreditNoteStatusEnum": "billing.models.CreditNote.Status",
        "CreditNoteReasonEnum": "billing.models.CreditNote.Reason",
        "ReceiptStatusEnum": "receivables.models.Receipt.Status",
        "ReceiptSourceEnum": "receivables.models.Receipt.Source",
        "ReceiptMatchEnum": "receivables.models.Receipt.Match",
        "TicketStatusEnum": "helpdesk.models.Ticket.Status",
        "TicketSlaStateEnum": "helpdesk.models.Ticket.SlaState",
        "TicketPriorityEnum": "helpdesk.models.Priority",
        "TicketCategoryEnum": "helpdesk.models.Category",
        "WebhookDeliveryStatusEnum": "otc.models.WebhookDelivery.Status",
        "DisputeReasonEnum": "collections_app.models.disputes.DisputeReason",  # issue 10 (i10a)
    },
}
# Collections' choice sets named once (several share a field name such as "reason" or "status").
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "DisputeReasonEnum": "collections_app.models.DisputeReason",
    "SpecificReserveReasonEnum": "collections_app.models.SpecificReason",
    "WriteOffReasonEnum": "collections_app.models.WriteOffReason",
    "WriteOffStatusEnum": "collections_app.models.WriteOffStatus",
})
# Absolute links in e-mails and webhooks.
OTC_BASE_URL = env.str("OTC_BASE_URL", default="http://127.0.0.1:8000")
# Accounting periods are opened (by a Controller or the schedule) up to this many months after
# the current one; a posting dated past the last open period is refused (docs/decisions/0010).
LEDGER_OPEN_HORIZON_MONTHS = env.int("LEDGER_OPEN_HORIZON_MONTHS", default=3)
# Plausible sizes (otc.money, docs/decisions/0013): every amount and quantity a person or an
# integration enters is refused at or above these. Amounts in major units per ISO 4217 code;
# "default" is a two-decimal currency's limit, scaled for currencies with other minor units (JPY
# 10^14, KWD 10^11). Quantities per UN/ECE unit code per line or usage record. JSON in the
# environment overrides or adds entries: OTC_PLAUSIBLE_AMOUNT_MAX='{"EUR": "5000000000"}'.
OTC_PLAUSIBLE_AMOUNT_MAX = {"default": "1000000000000", **env.json("OTC_PLAUSIBLE_AMOUNT_MAX", default={})}
OTC_PLAUSIBLE_QUANTITY_MAX = {"default": "1000000000", "E48": "1000000000000", "E34": "1000000000000",
                              **env.json("OTC_PLAUSIBLE_QUANTITY_MAX", default={})}
# The most rows one list page's Excel export writes (otc.listing.sorted_page, decision 0020);
# a larger export is refused with a request to narrow the filters.
OTC_LIST_EXPORT_MAX_ROWS = env.int("OTC_LIST_EXPORT_MAX_ROWS", default=20000)

# cXML for procurement portals: our sender identity (UserAgent) and the shared secret per portal
# (the supplier account's secret on SAP Ariba / Coupa), from the environment or a secret store
# that sets it; empty means none is sent. Only users who post to portals get it in a download.
CXML_SENDER_IDENTITY = env.str("CXML_SENDER_IDENTITY", default="otc")
CXML_SHARED_SECRETS = {
    "ariba": env.str("CXML_SHARED_SECRET_ARIBA", default=""),
    "coupa": env.str("CXML_SHARED_SECRET_COUPA", default=""),
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "PIL")},
        # Django's own console handler would print every django.* line a second time through the
        # root handler ("Watching for file changes with StatReloader" twice): the root prints them.
        "django": {"level": "INFO"},
    },
}

# --- web security (docs/operations.md#security-settings) ---
# Sessions last a working day from login by default.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

# Login throttling and lockout (django-axes): a username, or an IP address, is locked for
# AXES_COOLOFF_MINUTES after AXES_FAILURE_LIMIT failed logins; each counts on its own.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of the app that append to X-Forwarded-For (1 behind one nginx); 0: REMOTE_ADDR.
OTC_PROXY_COUNT = env.int("OTC_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "otc.security.client_ip"

# Two-factor (TOTP, django-otp): optional for everyone; required for the roles listed here (and
# for superusers when OTC_2FA_REQUIRED_FOR_SUPERUSERS), which production sets.
OTC_2FA_REQUIRED_ROLES = env.list("OTC_2FA_REQUIRED_ROLES", default=[])
OTC_2FA_REQUIRED_FOR_SUPERUSERS = env.bool("OTC_2FA_REQUIRED_FOR_SUPERUSERS", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="otc")

# Content-Security-Policy (django-csp). Scripts only from our own origin (vendored htmx,
# Bootstrap, Chart.js, static/otc/*.js) or with the per-request nonce; no inline event handlers.
# Inline style attributes are allowed (Bootstrap utilities, Swagger UI); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # ReDoc's search worker
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.bool("CSP_REPORT_ONLY", default=False):  # try a stricter policy without breaking pages
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

# Webhooks (docs/api.md#webhooks)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=False)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=True)

# Company-wide defaults
OTC_DEFAULT_PAYMENT_TERMS_DAYS = 30

# --- AR aging and the monthly report pack (receivables/aging) ---
AR_REPORT_RECIPIENTS = env.list("AR_REPORT_RECIPIENTS", default=[])
AR_REPORT_BUSINESS_DAY = env.int("AR_REPORT_BUSINESS_DAY", default=3)  # business day after month-end
AR_REPORT_THRESHOLDS = {  # the exception rules of the report pack (receivables/aging/reports.py)
    "overdue_pct": env.str("AR_REPORT_OVERDUE_PCT", default="25"),
    "over_90_pct": env.str("AR_REPORT_OVER_90_PCT", default="10"),
    "dso_rise_days": env.str("AR_REPORT_DSO_RISE_DAYS", default="5"),
    "concentration_pct": env.str("AR_REPORT_CONCENTRATION_PCT", default="50"),
    "customer_overdue_rise": env.str("AR_REPORT_CUSTOMER_OVERDUE_RISE", default="10000"),
    "unapplied_cash_pct": env.str("AR_REPORT_UNAPPLIED_CASH_PCT", default="5"),
}

# --- collections: dunning letters' PDFs and e-mails on the documents queue (i10b) ---
CELERY_TASK_ROUTES["collections.dunning_letters_publish"] = {"queue": "documents"}
# --- Scale-out: workers through pgbouncer in transaction mode (docs/operations.md#scale-out) ---
# A transaction pooler hands each transaction to any server connection: no server-side cursors
# (they live across transactions). Production repeats this after its own DATABASES.
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="")
if DATABASE_POOL_MODE == "transaction" and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
