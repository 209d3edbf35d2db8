# syntax=docker/dockerfile:1
# Slate production image: web (gunicorn), worker and beat all run from this one image;
# docker-compose.yml picks the command. Configuration comes from the environment at run time
# (see slate/settings.py); nothing secret is baked in.
FROM python:3.11-slim

# The code runs from /app (manage.py, templates/, static/ and the migrations live there), so
# /app goes first on the path for gunicorn, celery and manage.py alike; the copy `pip install .`
# puts in site-packages is not what runs.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

RUN groupadd --system --gid 1000 slate \
    && useradd --system --uid 1000 --gid slate --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin slate

# The share images (slate/share_image.py) are drawn in DejaVu Sans; without it Pillow falls
# back to its own plainer font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files are collected at build time (whitenoise serves them). The SECRET_KEY here is a
# throwaway that exists only for this RUN line: it is not an ENV and never reaches run time,
# where settings refuse to start without a real one.
RUN SLATE_ENV=production \
    SECRET_KEY=collectstatic-build-only-dummy-key-not-used-at-run-time \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    CELERY_BROKER_URL=memory:// \
    SLATE_PUBLIC_URL=https://collectstatic.invalid \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/collectstatic.sqlite3

# The code stays root-owned and read-only to the app user; only var/ is writable.
RUN mkdir -p /app/var && chown slate:slate /app/var

USER slate:slate

EXPOSE 8000

CMD ["gunicorn", "slate.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
