"""The embedded default: SQLite under ./data, Celery in-process, console e-mail."""

from .base import *  # noqa: F403
from .base import DATA_DIR, env

DEBUG = env.bool("DEBUG", default=True)
DATA_DIR.mkdir(parents=True, exist_ok=True)

# The demo's console: one line per e-mail (recipient, subject, attachments and sizes), not the
# whole MIME text with base64 PDFs (otc/mail.py). EMAIL_BACKEND in the environment still wins.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="otc.mail.SummaryEmailBackend")

# Long jobs started from a page (issuing a billing run) run in a background thread when Celery is
# eager, so the page answers at once and polls the progress (billing/views/runs.py).
OTC_EAGER_TASKS_IN_THREAD = env.bool("OTC_EAGER_TASKS_IN_THREAD", default=True)
