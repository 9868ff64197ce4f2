"""The embedded default: SQLite under ./data, Celery in-process, console e-mail."""

from .base import *  # noqa: F403
from .base import DATA_DIR, env

DEBUG = env.bool("DEBUG", default=True)
DATA_DIR.mkdir(parents=True, exist_ok=True)
