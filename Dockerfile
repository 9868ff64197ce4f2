# otc production image: gunicorn (web), celery (worker, beat). See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (invoice PDFs) needs Pango, HarfBuzz and fonts; libpq for psycopg at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libcairo2 \
        libgdk-pixbuf-2.0-0 libffi8 shared-mime-info fonts-dejavu-core fonts-liberation libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (pinned in pyproject.toml) so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .

# Static files into the image, hashed and compressed for whitenoise. The values are build-time
# placeholders only: the real ones come from .env when the containers run.
RUN SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0123456789 \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost:6379/0 ALLOWED_HOSTS=localhost \
    DJANGO_SETTINGS_MODULE=otc.settings.production \
    python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 1000 otc && mkdir -p /app/data/media && chown -R otc /app/data
USER otc

ENV DJANGO_SETTINGS_MODULE=otc.settings.production
EXPOSE 8000
CMD ["gunicorn", "otc.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-"]
