"""Settings shared by production and tests; ``apply`` fills in what comes from config."""

from __future__ import annotations

from dataclasses import replace as _replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from ketamine_clinic import config as _config

BASE_DIR = Path(__file__).resolve().parent


#: psycopg prepares a statement on the server after it has run this many times on one
#: connection (``KC_DB_PREPARED_STATEMENTS``; decision 0048).
PREPARE_THRESHOLD = 5


def database_from(cfg: _config.Config) -> dict[str, object]:
    """Django DATABASES entry for ``cfg``: PostgreSQL from a URL, else SQLite (WAL).

    On PostgreSQL the parameters are bound on the server and a statement a connection runs
    again and again is prepared, so PostgreSQL plans it once instead of on every page
    (``KC_DB_PREPARED_STATEMENTS=0`` turns this off, e.g. behind a pooler in transaction
    mode that cannot keep prepared statements; decision 0048)."""
    if cfg.database_url:
        url = urlparse(cfg.database_url)
        if url.scheme not in {"postgres", "postgresql"}:
            raise _config.ConfigError("KC_DATABASE_URL must start with postgres://")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(url.path.lstrip("/")),
            "USER": unquote(url.username or ""),
            "PASSWORD": unquote(url.password or ""),
            "HOST": url.hostname or "",
            "PORT": str(url.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "ATOMIC_REQUESTS": False,
            "OPTIONS": (
                {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD}
                if cfg.db_prepared_statements
                else {}
            ),
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(cfg.data_dir / "kclinic.sqlite3"),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def databases_from(cfg: _config.Config) -> dict[str, dict[str, object]]:
    """``default`` (the primary) and, with ``KC_REPLICA_DATABASE_URL``, a read-only ``replica``
    that reports and exports read from (``storage.routers``)."""
    found = {"default": database_from(cfg)}
    if cfg.replica_database_url:
        found["replica"] = {
            **database_from(_replace(cfg, database_url=cfg.replica_database_url)),
            "TEST": {"MIRROR": "default"},
        }
    return found


def apply(cfg: _config.Config, namespace: dict[str, object]) -> None:
    """Fill a settings namespace from ``cfg`` (shared by the production and test modules)."""
    https = cfg.https
    namespace.update(
        DEBUG=cfg.debug,
        SECRET_KEY=cfg.secret_key,
        ALLOWED_HOSTS=list(cfg.allowed_hosts) + (["testserver"] if cfg.debug else []),
        DATABASES=databases_from(cfg),
        SESSION_COOKIE_SECURE=https,
        CSRF_COOKIE_SECURE=https,
        SECURE_SSL_REDIRECT=https,
        SECURE_HSTS_SECONDS=31536000 if https else 0,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=https,
        SECURE_HSTS_PRELOAD=https,
        KC_IDLE_TIMEOUT_MINUTES=cfg.idle_timeout_minutes,
        AXES_FAILURE_LIMIT=cfg.login_failure_limit,
        AXES_COOLOFF_TIME=cfg.lockout_minutes / 60,
        KC_DATA_DIR=cfg.data_dir,
        EMAIL_BACKEND=(
            "django.core.mail.backends.smtp.EmailBackend"
            if cfg.email_host
            else "django.core.mail.backends.filebased.EmailBackend"
        ),
        EMAIL_HOST=cfg.email_host or "localhost",
        DEFAULT_FROM_EMAIL=cfg.email_from,
        SERVER_EMAIL=cfg.email_from,
        EMAIL_FILE_PATH=str(cfg.data_dir / "outbox"),
        STATIC_ROOT=cfg.data_dir / "static",
        TIME_ZONE=cfg.time_zone,
        KC_PUBLIC_URL=cfg.public_url,
        KC_AUDIT_KEY=cfg.audit_key,
        KC_AUDIT_DIR=cfg.data_dir / "audit",
        KC_AUDIT_CHECKPOINT_EMAIL=cfg.audit_checkpoint_email,
        KC_DEMO=cfg.demo,
        KC_LOGIN_ADDRESS_LIMIT=cfg.login_address_limit,
        # The cookie ends with the browser; the server also ends a login after this long.
        SESSION_COOKIE_AGE=cfg.session_hours * 3600,
        KC_API_RATE_PER_MINUTE=cfg.api_rate_per_minute,
    )


# Defaults declared here so type checkers see them; ``apply`` overrides from config.
KC_IDLE_TIMEOUT_MINUTES = 15
KC_PUBLIC_URL = "http://127.0.0.1:8000"
KC_AUDIT_KEY = ""
KC_AUDIT_DIR = Path("var/audit")
KC_AUDIT_CHECKPOINT_EMAIL: str | None = None
KC_DEMO = False
KC_LOGIN_ADDRESS_LIMIT = 30
# Text messages to patients: a class with send(to, body, *, at); the default keeps them in
# the SmsOutbox table (services/sms.py), like the file e-mail backend keeps mail.
KC_SMS_BACKEND = "ketamine_clinic.services.sms.OutboxBackend"
KC_API_RATE_PER_MINUTE = 120
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ketamine_clinic.storage",
    "ketamine_clinic.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ketamine_clinic.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ketamine_clinic.web.middleware.NoStoreMiddleware",
    "ketamine_clinic.web.middleware.SettingsOncePerRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ketamine_clinic.web.middleware.RefuseNulMiddleware",
    "ketamine_clinic.web.middleware.OnceMiddleware",
    "ketamine_clinic.web.middleware.IdleTimeoutMiddleware",
    "ketamine_clinic.web.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend; the signed-in user read with a statement built once (web/fast_auth.py)
    "ketamine_clinic.web.fast_auth.PreparedModelBackend",
]
AUTH_USER_MODEL = "storage.User"
DATABASE_ROUTERS = ["ketamine_clinic.storage.routers.ReplicaRouter"]
# Background jobs (notifications, deadlines) in the clinic's own database: they survive a
# restart, and a job is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two workers
# never run the same one (docs/decisions/0014-suicide-risk-pathway-and-background-jobs.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Django's list is the 20,000 most common passwords of public breach corpora: the
    # breached-password check, offline (docs/decisions/0012-accounts.md).
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "ketamine_clinic.services.passwords.DemoPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600  # a reset link works once, within the hour
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
OTP_TOTP_ISSUER = "Ketamine Clinic"

# Lock the account, not the address: clinic tablets often share one NAT address
# (docs/decisions/0004-lockout-by-account.md).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ketamine_clinic.web.views.auth.locked_out"
# Failed logins are kept under the account id or a keyed hash, never the typed name.
AXES_USERNAME_CALLABLE = "ketamine_clinic.web.views.auth.axes_username"
AXES_VERBOSE = False

ROOT_URLCONF = "ketamine_clinic.web.urls"
WSGI_APPLICATION = "ketamine_clinic.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketamine_clinic.web.context.navigation",
                "ketamine_clinic.web.context.once",
            ],
        },
    },
]

SESSION_COOKIE_HTTPONLY = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "ketamine_clinic.web.fast_auth"  # Django's database sessions (web/fast_auth.py)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False
KC_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
