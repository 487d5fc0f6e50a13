"""Authentication: allauth headless for customers (JWT tokens, TOTP), django-otp + django-axes
for the staff admin, staff roles. Imported by base.py."""

from datetime import timedelta

import environ

from finstack.settings.keys import pem_blocks

env = environ.FileAwareEnv()

AUTHENTICATION_BACKENDS = [
    # django-axes refuses a locked-out admin login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.AuthenticationBackend",  # allauth's, loading users cheaper
]

# --- Customers: allauth headless; "app" (mobile, JWT) and "browser" (the web app at /app/:
# session cookie plus the X-CSRFToken header, nothing readable by scripts kept in storage) ----
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_SERVE_SPECIFICATION = True  # its spec is merged into /api/schema/
HEADLESS_TOKEN_STRATEGY = "apps.accounts.tokens.TokenStrategy"  # noqa: S105 - a class path
HEADLESS_JWT_ALGORITHM = "RS256"
HEADLESS_JWT_PRIVATE_KEY = env("JWT_PRIVATE_KEY")  # or JWT_PRIVATE_KEY_FILE (a file secret)
# Keys that signed tokens still in use: they verify until retired, never sign (PEM blocks,
# private or public, several in one value or file; apps.accounts.token_keys).
JWT_PREVIOUS_KEYS = pem_blocks(env("JWT_PREVIOUS_KEYS", default=""))
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("JWT_ACCESS_TOKEN_SECONDS", default=300)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env.int("JWT_REFRESH_TOKEN_SECONDS", default=30 * 86400)
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
# Without it an access token outlives logout, password reset and deactivation.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
# Links in e-mails point at the mobile app's deep links (codes are used instead where possible).
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": env("APP_URL_CONFIRM_EMAIL", default="finstack://verify/{key}"),
    "account_reset_password_from_key": env(
        "APP_URL_RESET_PASSWORD", default="finstack://password/reset/{key}"
    ),
    "account_signup": env("APP_URL_SIGNUP", default="finstack://signup"),
}

ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # the session is kept; other token families die
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_SECONDS", default=300)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Finstack] "
# Six digits are easy to type on a phone.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
# The client IP comes from REMOTE_ADDR unless this many proxies of ours sit in front.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Counted in the Redis cache. Failed logins: 10 a minute per IP, 5 per 15 minutes per account.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/900s/key"),
}

MFA_ADAPTER = "apps.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Finstack")
MFA_TOTP_TOLERANCE = 1  # one 30-second step either way: phones with a drifting clock
# Fernet keys for TOTP secrets at rest; the first encrypts, all decrypt (rotation).
MFA_ENCRYPTION_KEYS = env.list("MFA_ENCRYPTION_KEYS")

# Sessions list their last use. allauth's middleware that records it for cookie sessions is
# left out; the JWT authentication touches it for the mobile API, once a minute at most.
USERSESSIONS_TRACK_ACTIVITY = True

SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # an IdP cannot take over an existing account
SOCIALACCOUNT_PROVIDERS: dict = {}
if env("OIDC_CLIENT_ID", default=""):
    # Enterprise sign-in, e.g. a Keycloak realm: OIDC_SERVER_URL is the issuer URL.
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env("OIDC_PROVIDER_ID", default="keycloak"),
                "name": env("OIDC_PROVIDER_NAME", default="Company sign-in"),
                "client_id": env("OIDC_CLIENT_ID"),
                "secret": env("OIDC_CLIENT_SECRET", default=""),
                "settings": {"server_url": env("OIDC_SERVER_URL")},
            }
        ],
    }

# --- Staff: the admin needs a password, then a TOTP (django-otp); axes stops brute force -------
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Finstack admin")
# The staff API (/api/v1/staff/) needs a login that passed TOTP; a write, one within this.
STAFF_TOTP_MAX_AGE = env.int("STAFF_TOTP_MAX_AGE_SECONDS", default=15 * 60)
AXES_ONLY_ADMIN_SITE = True  # customers are covered by allauth's rate limits
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
# Attempts are kept in PostgreSQL: the admin keeps working (and locking) when Redis is down.
AXES_HANDLER = "apps.accounts.admin_lockout.AdminLoginHandler"
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0) or None
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True

AUDITLOG_INCLUDE_ALL_MODELS = False  # registered per model in each app's admin.py
