"""Production: base settings plus transport and cookie security. Nothing else differs."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import KYC_WEBHOOK_SECRETS, METRICS_TOKEN, PAYMENTS_WEBHOOK_SECRETS, env

DEBUG = False
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# /healthz and /readyz are answered before this redirect (apps.core.health.ProbeMiddleware).
# Provider callbacks are signed, and the simulated ones come from inside the cluster over HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/webhooks/", r"^api/v1/kyc/webhooks/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Uploads on S3-compatible storage (AWS, MinIO, Ceph...) when a bucket is given: web and worker
# pods keep nothing on their own disks. Objects stay private; links are signed and expire.
if env("S3_BUCKET", default=""):
    STORAGES["default"] = {  # noqa: F405
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }

# Refuse to start with what only development may use (`manage.py generate_secrets` makes
# real ones): /metrics open to anyone, or webhook secrets everybody can read in this file.
if not METRICS_TOKEN:
    raise ImproperlyConfigured("Set METRICS_TOKEN (or METRICS_TOKEN_FILE): /metrics is not public.")
_DEV_SECRETS = {"kyc-dev-only", "whsec-simulated-dev-only"}
if _DEV_SECRETS & {*KYC_WEBHOOK_SECRETS.values(), *PAYMENTS_WEBHOOK_SECRETS.values()}:
    raise ImproperlyConfigured(
        "Set PAYMENTS_SIMULATED_WEBHOOK_SECRET and KYC_SIMULATED_WEBHOOK_SECRET (or their _FILE):"
        " the development defaults are public."
    )
