# syntax=docker/dockerfile:1
# Production image: pinned dependencies in a builder stage, a slim non-root runtime with gunicorn.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements/base.txt requirements/production.txt /tmp/requirements/
RUN /venv/bin/pip install --require-hashes -r /tmp/requirements/production.txt

# The customer web app (web/), built from its lock file; only web/dist reaches the image.
FROM node:20.20-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY docs/openapi.yaml /src/docs/openapi.yaml
COPY web/ ./
RUN npm run build

FROM python:3.11-slim AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=finstack.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media
RUN groupadd --system --gid 10001 finstack && useradd --system --uid 10001 --gid finstack --home /app finstack \
    && mkdir -p /data/media /tmp/prometheus && chown finstack:finstack /data/media /tmp/prometheus
COPY --from=builder /venv /venv
WORKDIR /app
COPY --chown=finstack:finstack . /app
COPY --from=web --chown=finstack:finstack /src/web/dist /app/web/dist
# collectstatic needs settings but no database or real secret.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    JWT_PRIVATE_KEY=build-only MFA_ENCRYPTION_KEYS=build-only METRICS_TOKEN=build-only \
    PAYMENTS_SIMULATED_WEBHOOK_SECRET=build-only KYC_SIMULATED_WEBHOOK_SECRET=build-only \
    python manage.py collectstatic --no-input
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["gunicorn", "finstack.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-", "--forwarded-allow-ips", "*"]
