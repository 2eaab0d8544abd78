# The Waymark image: web (gunicorn), worker and beat (celery) all run from it.
# Build: docker build -t waymark .   Run: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The app runs as this user; the code and static files stay owned by root, read-only to it.
RUN groupadd --system waymark \
    && useradd --system --gid waymark --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin waymark

# Dependencies first, so a code change does not reinstall them: every package at its locked
# version and hash (requirements.lock).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .

# Static files are collected (and compressed, with a manifest) into the image. Settings refuse
# to load without a SECRET_KEY when DEBUG is off; this throwaway one exists only for this step.
RUN SECRET_KEY=collectstatic-only-not-secret DEBUG=0 python manage.py collectstatic --noinput

USER waymark

EXPOSE 8000

CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]
