"""Settings shared by every environment, read from the environment (12-factor).

Any variable can instead be given as NAME_FILE=/path/to/secret (Docker/Kubernetes/Vault-agent
secrets): django-environ's FileAwareEnv reads the file.
"""

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import environ
from celery.schedules import crontab

from finstack.settings import broker

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.FileAwareEnv()

SECRET_KEY = env("SECRET_KEY")
# Earlier keys, one per line (SECRET_KEY_FALLBACKS_FILE for a secret file): they still read
# sessions, signed values, mobile tokens' session ids and KYC PII while a rotation settles.
SECRET_KEY_FALLBACKS = env("SECRET_KEY_FALLBACKS", default="").split()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "finstack.apps.AdminConfig",  # the admin site requires staff TOTP (django-otp)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "auditlog",
    "import_export",
    "finstack",  # the composition root: project-wide commands such as seed_demo
    "apps.core",
    "apps.accounts",
    "apps.kyc",
    "apps.ledger",
    "apps.wallets",
    "apps.payments",
    "apps.notifications",
    "apps.reports",
    "apps.webhooks",
]

MIDDLEWARE = [
    "finstack.metrics.RequestMetricsMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.health.ProbeMiddleware",  # before anything reads the Host header
    "django.middleware.security.SecurityMiddleware",
    "finstack.webapp.WhiteNoiseMiddleware",  # static files and the web app's assets
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.AdminOTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.accounts.middleware.AllauthMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = env("ROOT_URLCONF", default="finstack.urls")  # bench/ mounts a bare endpoint
WSGI_APPLICATION = "finstack.wsgi.application"
ASGI_APPLICATION = "finstack.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL is the one database -------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/finstack")
}
# A unix-socket directory arrives percent-encoded in the URL's host part.
DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # each service owns its transaction
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Prepared statements: psycopg 3 binds parameters on the server and prepares a statement a
# connection has run `prepare_threshold` times, so PostgreSQL plans it once per connection
# instead of on every run (planning a P2P transfer's statements took longer than running
# them). Off (client-side binding, as Django's default) with
# DB_PREPARED_STATEMENTS=false, e.g. behind a PgBouncer older than 1.21 in transaction mode.
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=5)
    )

# A streaming replica for the read side that tolerates lag (finstack/replica.py).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **env.db_url("DATABASE_REPLICA_URL"),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["finstack.replica.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("apps.core.health.ProbeMiddleware") + 1,
        "finstack.replica.ReplicaReadsMiddleware",
    )
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=30)
REPLICA_ROUTES = frozenset(
    {"wallet-transactions", "report-summary", "report-statement", "notification-list"}
)
REPLICA_APPS = frozenset({"ledger", "wallets", "payments", "kyc", "notifications", "reports"})

# Customer and staff passwords (allauth applies these at sign-up, change and reset).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "apps.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 256}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: cache, throttles and the Celery broker -----------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        # Fail fast when Redis is away: callers degrade instead of hanging a request.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "KEY_PREFIX": "finstack",
    }
}
# Sessions live in PostgreSQL so the admin keeps working while Redis is down.
SESSION_ENGINE = "apps.accounts.sessions"  # the database backend, loading cheaper

# --- Celery (money work: late acks, re-queue on worker loss, one message at a time) -----------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if broker.is_amqp(CELERY_BROKER_URL):
    # RabbitMQ, for production (docs/runbooks/scaling-out.md, "Broker"): replicated, durable
    # quorum queues and publisher confirms. Celery sees the quorum queues and turns global QoS
    # off (worker_detect_quorum_queues); the prefetch of one below stays per consumer.
    CELERY_BROKER_TRANSPORT_OPTIONS = broker.amqp_transport_options()
    CELERY_TASK_QUEUES = tuple(broker.quorum_queue(name) for name in broker.QUEUES)
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    # A queue not listed (a test run's own, a worker's `-Q` of another name) is declared the
    # same way, never as a classic queue.
    CELERY_TASK_CREATE_MISSING_QUEUE_TYPE = "quorum"
    CELERY_TASK_CREATE_MISSING_QUEUE_EXCHANGE_TYPE = "topic"
else:
    # Redis, the default for a laptop: it keeps queued messages only as long as its own
    # persistence does.
    CELERY_BROKER_TRANSPORT_OPTIONS = broker.redis_transport_options(
        visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    )
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_DEFAULT_QUEUE = "default"
# Money sagas, notifications and webhooks get their own queues so a burst of one never delays
# another; one worker can consume all four (`-Q default,money,notifications,webhooks`) or each
# its own.
CELERY_TASK_ROUTES = {
    "payments.*": {"queue": "money"},
    "notifications.*": {"queue": "notifications"},
    # A slow or dead partner endpoint (10 s timeouts) must not hold up customers' messages.
    "webhooks.*": {"queue": "webhooks"},
}
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The beat schedule is code-reviewed here; each entry names a task by its stable name.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "core.outbox_sweep": {"task": "core.outbox_sweep", "schedule": 15.0},
    "core.idempotency_cleanup": {"task": "core.idempotency_cleanup", "schedule": 3600.0},
    "core.deliveries_cleanup": {"task": "core.deliveries_cleanup", "schedule": 86400.0},
    "core.outbox_prune": {"task": "core.outbox_prune", "schedule": 60.0},
}
# Outbox events dispatched longer ago than this are deleted with their handler claims
# (apps.core.retention); until then outbox_replay can send them again. A run deletes at most
# BATCHES_PER_RUN statements of BATCH rows.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
OUTBOX_RETENTION_BATCH = env.int("OUTBOX_RETENTION_BATCH", default=5_000)
OUTBOX_RETENTION_BATCHES_PER_RUN = env.int("OUTBOX_RETENTION_BATCHES_PER_RUN", default=4)
# A record a beat job failed on (apps.core.batch) is tried again no sooner than this.
BATCH_RETRY_AFTER_SECONDS = env.int("BATCH_RETRY_AFTER_SECONDS", default=3600)
# After commit, outbox events go to the broker from a relay thread in batches ("background"),
# or from the committing thread ("inline": tests, so eager tasks run before the caller returns).
OUTBOX_DISPATCH = env("OUTBOX_DISPATCH", default="background")
# A dispatched event whose handlers have not all run this long after (its message was lost by
# the broker) has the missing ones re-sent by the sweeper, at most OUTBOX_REDISPATCH_MAX times
# (0: never), then is given up on (logged, /metrics). Above the handler retry horizon (~510 s).
OUTBOX_REDISPATCH_AFTER_SECONDS = env.int("OUTBOX_REDISPATCH_AFTER_SECONDS", default=900)
OUTBOX_REDISPATCH_MAX = env.int("OUTBOX_REDISPATCH_MAX", default=3)
# Idempotency-Key records live at least this long (Stripe keeps them 24 hours).
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# A request still "in flight" after this long is taken to have died; a retry may take over.
IDEMPOTENCY_IN_FLIGHT_SECONDS = env.int("IDEMPOTENCY_IN_FLIGHT_SECONDS", default=120)

# Request bodies (JSON, or a multipart body's non-file fields) above this are refused with
# 413 `request_too_large` (Django's default, made explicit); KYC files have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    # Mobile clients send allauth's JWT access token; the session is for the browsable admin.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.JWTAuthentication",
        # Services' and partners' keys; only routes with `required_scopes` accept them.
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",  # refuses NUL, lone surrogates, deep nesting
        "apps.core.api.parsers.MultiPartParser",  # the same refusals, per field
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        # anon or user, plus a view's `throttle_scope`: one Redis round trip for all
        "apps.core.api.throttling.RequestRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/min"),
        "user": env("THROTTLE_USER", default="1200/min"),
        # Transfers, deposits and withdrawals together, per user (fails open like the rest).
        "money": env("THROTTLE_MONEY", default="60/min"),
        # Recipient look-ups (a name for an e-mail or phone), per user.
        "lookup": env("THROTTLE_LOOKUP", default="30/min"),
    },
    # Client IP comes from REMOTE_ADDR unless this many trusted proxies sit in front of us.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Finstack API",
    "DESCRIPTION": (
        "Money amounts are integers in minor units with an ISO 4217 currency. Every error is "
        '`{"error": {"code", "message", "details"}}` with a stable `code`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "Currency": "apps.core.money.CURRENCY_CODES",
        "Country": "apps.kyc.api.views.COUNTRIES",
        # Names the schema had before the ledger API brought fields of the same names.
        "TypeEnum": "apps.kyc.models.Document.Type",
        "DirectionEnum": ["incoming", "outgoing"],
        "LedgerDirection": "apps.ledger.models.Direction",
        "LedgerAccountType": "apps.ledger.models.AccountType",
        "LedgerBalanceRule": "apps.ledger.models.BalanceRule",
        "WebhookEndpointStatus": "apps.webhooks.models.Endpoint.Status",
        "WebhookLedgerEventType": "apps.webhooks.catalog.NAMESPACED",
    },
    # allauth's own endpoints (sign-up, login, tokens, 2FA) join the one API document.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.accounts.openapi.merge_allauth_schema",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        }
    },
}

# --- Auth (finstack/settings/auth.py: allauth, JWT, MFA, django-otp, axes, roles) -------------
from .auth import *  # noqa: E402, F403

# --- i18n, static, media, email ---------------------------------------------------------------
LANGUAGE_CODE = "en"
# Languages users can pick (GET/PATCH /api/v1/me); messages have templates in each.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# The customer web app's build (web/, `npm run build`), served at /app/ (finstack/webapp.py).
WEBAPP_DIST = Path(env("WEBAPP_DIST", default=str(BASE_DIR / "web" / "dist")))
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
MEDIA_URL = "media/"
STORAGES = {
    # Private by default: uploads (KYC documents) are never served from a public URL.
    "default": {
        "BACKEND": env("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Finstack <no-reply@finstack.local>")

# --- Logging: every line carries the request id -------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")  # "json" in production
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.logging.RequestIdFilter"},
        "redact_secrets": {"()": "apps.core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
        "traced": {
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s %(trace_id)s] %(name)s: "
            "%(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(trace_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Ledger -----------------------------------------------------------------------------------
# The currencies a new database starts with. Afterwards the ledger's Currency table decides
# (operations enable one in the admin, which creates its system accounts).
LEDGER_CURRENCIES = env.list("LEDGER_CURRENCIES", default=["EUR", "USD", "GBP"])
LEDGER_PROVIDERS = env.list("LEDGER_PROVIDERS", default=["simulated"])
CELERY_BEAT_SCHEDULE |= {
    "ledger.holds_expire": {"task": "ledger.holds_expire", "schedule": 60.0},
    "ledger.checkpoint_seal": {"task": "ledger.checkpoint_seal", "schedule": crontab(minute=15)},
    "ledger.verify": {"task": "ledger.verify", "schedule": crontab(hour=2, minute=30)},
}

# --- KYC ----------------------------------------------------------------------------------------
# Limits (minor units) for a currency the tier has no limit row for (apps.kyc.selectors).
KYC_DEFAULT_LIMITS = {
    "default": {
        "per_transaction": 100_000,
        "daily": 250_000,
        "monthly": 1_000_000,
        "max_balance": 1_500_000,
    },
}

# Salt(s) for the key that encrypts KYC PII (with SECRET_KEY; the first encrypts, all decrypt).
SALT_KEY = env.list("KYC_ENCRYPTION_SALTS", default=["finstack-kyc-pii-v1"])
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"  # loading the watch list needs the add permission
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
KYC_MAX_UPLOAD_BYTES = env.int("KYC_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
KYC_MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not rendered
KYC_MAX_ATTEMPTS = 3  # resubmissions before a case is rejected for good
KYC_APPROVAL_VALID_DAYS = 2 * 365
KYC_RETENTION_YEARS = 5  # after the relationship ends (EU AMLD Art. 40)
KYC_SCREENING_THRESHOLD = 88  # rapidfuzz token_sort_ratio from which a name is a hit
KYC_PROVIDERS = {"simulated": "apps.kyc.providers.SimulatedVendor"}
KYC_PROVIDER = env("KYC_PROVIDER", default="simulated")
KYC_WEBHOOK_SECRETS = {"simulated": env("KYC_SIMULATED_WEBHOOK_SECRET", default="kyc-dev-only")}
# Secrets being rotated out, one per line: they still verify until removed.
KYC_WEBHOOK_PREVIOUS_SECRETS = {
    "simulated": env("KYC_SIMULATED_WEBHOOK_PREVIOUS_SECRETS", default="").split()
}
KYC_SIMULATED_AUTO_CALLBACK = env.bool("KYC_SIMULATED_AUTO_CALLBACK", default=True)
KYC_SIMULATED_DELAY = 5
# Where the simulated vendor and bank call us back: this process's own address from a
# laptop, the web service's inside compose (http://web:8000) or Kubernetes (http://finstack-web).
CALLBACK_BASE_URL = env("CALLBACK_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
KYC_SIMULATED_WEBHOOK_URL = env(
    "KYC_SIMULATED_WEBHOOK_URL", default=f"{CALLBACK_BASE_URL}/api/v1/kyc/webhooks/simulated"
)
CELERY_BEAT_SCHEDULE |= {
    "kyc.expire": {"task": "kyc.expire", "schedule": crontab(hour=3, minute=0)},
    "kyc.retention": {"task": "kyc.retention", "schedule": crontab(hour=3, minute=30)},
}

# --- Wallets ------------------------------------------------------------------------------------
# Fee per P2P transfer, in minor units of the transfer's currency (0: free).
WALLETS_P2P_FEE = env.int("WALLETS_P2P_FEE", default=0)
# Days a money request waits for its payer before it expires.
WALLETS_MONEY_REQUEST_DAYS = env.int("WALLETS_MONEY_REQUEST_DAYS", default=14)
CELERY_BEAT_SCHEDULE |= {
    "wallets.money_requests_expire": {"task": "wallets.money_requests_expire", "schedule": 300.0},
}

# --- Notifications ------------------------------------------------------------------------------
NOTIFICATIONS_BACKENDS = {
    "email": "apps.notifications.channels.basic.DjangoEmail",  # EMAIL_URL picks the transport
    # "apps.notifications.channels.providers.HttpSms" with SMS_API_URL, SMS_API_TOKEN
    "sms": env("NOTIFICATIONS_SMS_BACKEND", default="apps.notifications.channels.basic.Console"),
    # "apps.notifications.channels.providers.Fcm" with FCM_PROJECT_ID, FCM_CREDENTIALS_FILE
    "push": env("NOTIFICATIONS_PUSH_BACKEND", default="apps.notifications.channels.basic.Console"),
}
SMS_API_URL = env("SMS_API_URL", default="")
SMS_API_TOKEN = env("SMS_API_TOKEN", default="")
SMS_SENDER = env("SMS_SENDER", default="Finstack")
FCM_PROJECT_ID = env("FCM_PROJECT_ID", default="")
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE", default="")
NOTIFICATIONS_MAX_RETRIES = env.int("NOTIFICATIONS_MAX_RETRIES", default=8)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=5)
# A transfer of at least this much (minor units) also sends a security alert to the sender.
NOTIFICATIONS_LARGE_AMOUNT = {"EUR": 100_000, "USD": 100_000, "GBP": 100_000}
CELERY_BEAT_SCHEDULE |= {
    "notifications.requeue": {"task": "notifications.requeue", "schedule": 60.0},
    "notifications.deliveries_prune": {
        "task": "notifications.deliveries_prune",
        "schedule": crontab(minute=45),
    },
}
# Sent and failed deliveries (e-mail, SMS, push copies and their attempt logs) are deleted
# after this many days; in-app notifications (the inbox) are kept. Longer than
# OUTBOX_RETENTION_DAYS: a delivery's uniqueness per event dedupes replays of that event.
NOTIFICATIONS_DELIVERY_RETENTION_DAYS = env.int("NOTIFICATIONS_DELIVERY_RETENTION_DAYS", default=90)
NOTIFICATIONS_DELIVERY_PRUNE_BATCHES_PER_RUN = 20  # of 5,000 rows, hourly

# --- Payments -----------------------------------------------------------------------------------
PAYMENTS_PROVIDERS = {"simulated": "apps.payments.providers.simulated.SimulatedProvider"}
PAYMENTS_WEBHOOK_SECRETS = {
    "simulated": env("PAYMENTS_SIMULATED_WEBHOOK_SECRET", default="whsec-simulated-dev-only"),
}
# Secrets being rotated out, one per line: they still verify until removed.
PAYMENTS_WEBHOOK_PREVIOUS_SECRETS = {
    "simulated": env("PAYMENTS_SIMULATED_WEBHOOK_PREVIOUS_SECRETS", default="").split()
}
# The simulated bank calls back this many seconds after a request, at this URL.
PAYMENTS_SIMULATED_AUTO_CALLBACK = env.bool("PAYMENTS_SIMULATED_AUTO_CALLBACK", default=True)
PAYMENTS_SIMULATED_DELAY = env.int("PAYMENTS_SIMULATED_DELAY", default=3)
PAYMENTS_SIMULATED_WEBHOOK_URL = env(
    "PAYMENTS_SIMULATED_WEBHOOK_URL", default=f"{CALLBACK_BASE_URL}/api/v1/webhooks/simulated"
)
PAYMENTS_STEP_TIMEOUT_SECONDS = 60  # a queued step not started by then is re-sent
PAYMENTS_WEBHOOK_WAIT_SECONDS = env.int("PAYMENTS_WEBHOOK_WAIT_SECONDS", default=300)
PAYMENTS_DEADLINE_SECONDS = env.int("PAYMENTS_DEADLINE_SECONDS", default=86400)
PAYMENTS_STEP_MAX_RETRIES = 6
# Risk rules (minor units): review or deny by amount, velocity, new funding sources.
PAYMENTS_RISK = {
    "amount": {
        "default": {"review": 500_000, "deny": 5_000_000, "review_per_day": 1_000_000},
    },
    "max_per_hour": 5,
}
# Compliance's edits of these (RiskLimit rows in the admin) reach every process within this.
RISK_RULES_CACHE_SECONDS = env.int("RISK_RULES_CACHE_SECONDS", default=30)
CELERY_BEAT_SCHEDULE |= {"payments.recover": {"task": "payments.recover", "schedule": 60.0}}

# Bearer token the Prometheus scraper sends to /metrics (empty: open, e.g. in development).
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Webhooks (outbound, docs/webhooks.md) ------------------------------------------------------
# Attempts of one delivery before it is given up: doubling from the base, capped, plus up to
# 10 % jitter; the defaults span a little over 24 h (1, 2, 4 ... 32 min, then hourly).
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=30)
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=60)
WEBHOOKS_RETRY_MAX_SECONDS = env.int("WEBHOOKS_RETRY_MAX_SECONDS", default=3600)
# Connect and read timeout of one POST.
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10)
# An endpoint is disabled (operations alerted) after this many failed attempts in a row, or
# once its attempts have failed without a success for this many hours, whichever comes first.
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=100)
WEBHOOKS_DISABLE_AFTER_HOURS = env.int("WEBHOOKS_DISABLE_AFTER_HOURS", default=72)
# After a rotation the previous secret still signs for this long.
WEBHOOKS_SECRET_ROTATION_HOURS = env.int("WEBHOOKS_SECRET_ROTATION_HOURS", default=24)
# SSRF guards (apps.webhooks.addresses): plain http and private/loopback addresses are
# refused unless these allow them (development and tests post to http://127.0.0.1).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Finished deliveries (the payload copies and their attempts) are deleted after this many
# days. Longer than OUTBOX_RETENTION_DAYS: a delivery's uniqueness per event and endpoint
# dedupes a replay of that outbox event.
WEBHOOKS_DELIVERY_RETENTION_DAYS = env.int("WEBHOOKS_DELIVERY_RETENTION_DAYS", default=45)
CELERY_BEAT_SCHEDULE |= {
    "webhooks.requeue": {"task": "webhooks.requeue", "schedule": 30.0},
    "webhooks.deliveries_prune": {
        "task": "webhooks.deliveries_prune",
        "schedule": crontab(minute=50),
    },
}

# --- Reports ------------------------------------------------------------------------------------
CELERY_BEAT_SCHEDULE |= {
    "reports.reconcile": {"task": "reports.reconcile", "schedule": crontab(hour=4, minute=0)},
}
