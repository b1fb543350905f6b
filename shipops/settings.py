"""ShipOps settings, read from the environment with safe local defaults.

Development needs no variables at all (SQLite, the ORM broker, the UPS
sandbox). ``SHIPOPS_ENV=production`` turns DEBUG off and requires a secret
key and allowed hosts; see README.md "Configuration".
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shipops.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_required,
    env_str,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent

SHIPOPS_ENV = env_str("SHIPOPS_ENV", "development").strip().lower()
if SHIPOPS_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"SHIPOPS_ENV={SHIPOPS_ENV!r} is not known; use 'development' or 'production'."
    )
PRODUCTION = SHIPOPS_ENV == "production"
DEBUG = False if PRODUCTION else env_bool("DJANGO_DEBUG", True)

# Everything ShipOps writes locally (SQLite file, labels, source files) lives here.
DATA_DIR = env_path("SHIPOPS_DATA_DIR", BASE_DIR / "var")

if PRODUCTION:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY", "production needs a long random secret key.")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is too weak: use at least 50 random characters."
        )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is not set: list the host names ShipOps answers to, "
            "separated by commas."
        )
else:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "django-insecure-local-development-only-never-use-in-production"
    )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# JSON under /api/ for a refused CSRF check; Django's own page elsewhere.
CSRF_FAILURE_VIEW = "jobs.api.http.csrf_failure"

INSTALLED_APPS = [
    "shipops.apps.ShipOpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "shipops",
    "ups",
    "datasources",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shipops.urls"
WSGI_APPLICATION = "shipops.wsgi.application"

TEMPLATES = [
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

# Database: SQLite in DATA_DIR unless DATABASE_URL names PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL").strip()
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"SHIPOPS_DATA_DIR={DATA_DIR} cannot be created ({error.strerror})."
        ) from None
    DATABASES = {"default": sqlite_database(DATA_DIR / "shipops.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: shared by every process (the UPS token lives here), so never per-process memory.
REDIS_URL = env_str("REDIS_URL").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "shipops",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "shipops_cache",
        }
    }

# django-q2: the ORM broker by default, Redis when REDIS_URL is set. django-q2
# requires timeout < retry; the executor works in slices shorter than timeout
# and chains the next slice, so a long batch never meets either limit.
Q_TIMEOUT_SECONDS = env_int("SHIPOPS_TASK_TIMEOUT", 300, minimum=30)
Q_CLUSTER: dict[str, object] = {
    "name": env_str("SHIPOPS_CLUSTER_NAME", "shipops"),
    "workers": env_int("SHIPOPS_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT_SECONDS,
    "retry": Q_TIMEOUT_SECONDS + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.2

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("SHIPOPS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Staff sign in through the admin; a script posting to its login page lands there too
# (Django's default, /accounts/profile/, is no page here).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

STATIC_URL = "static/"
STATIC_ROOT = env_path("SHIPOPS_STATIC_ROOT", DATA_DIR / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("SHIPOPS_MEDIA_ROOT", DATA_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Source files (CSV, Excel) are read and written only below this folder.
SHIPOPS_SOURCE_ROOT = env_path("SHIPOPS_SOURCE_ROOT", DATA_DIR / "sources")
SHIPOPS_UPLOAD_MAX_BYTES = env_int("SHIPOPS_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# How long a write-back waits for another write-back of the same file; docs/sources.md.
SHIPOPS_SOURCE_LOCK_SECONDS = env_float("SHIPOPS_SOURCE_LOCK_SECONDS", 30.0, minimum=0.1)
# Batch engine knobs; docs/batches.md explains each.
SHIPOPS_PREVIEW_CONCURRENCY = env_int("SHIPOPS_PREVIEW_CONCURRENCY", 8, minimum=1)
SHIPOPS_LEASE_SECONDS = env_int("SHIPOPS_LEASE_SECONDS", 60, minimum=2)
SHIPOPS_HANDOVER_SECONDS = env_int("SHIPOPS_HANDOVER_SECONDS", 900, minimum=2)
SHIPOPS_WRITEBACK_FLUSH_SECONDS = env_float("SHIPOPS_WRITEBACK_FLUSH_SECONDS", 5.0)
SHIPOPS_EXECUTOR_SLICE_SECONDS = env_int(
    "SHIPOPS_EXECUTOR_SLICE_SECONDS", Q_TIMEOUT_SECONDS // 2, minimum=10
)
# A demo staff user may be created only where this is on (never in production).
SHIPOPS_ALLOW_DEMO = not PRODUCTION and env_bool("SHIPOPS_ALLOW_DEMO", True)

# UPS: the local sandbox unless UPS_ENV says cie or production; see docs/ups.md.
UPS_ENV = env_str("UPS_ENV", "sandbox").strip().lower()
if UPS_ENV not in {"sandbox", "cie", "production"}:
    raise ImproperlyConfigured(f"UPS_ENV={UPS_ENV!r} is not known; use sandbox, cie or production.")
UPS_CLIENT_ID = env_str("UPS_CLIENT_ID", "sandbox-client" if UPS_ENV == "sandbox" else "")
UPS_CLIENT_SECRET = env_str("UPS_CLIENT_SECRET", "sandbox-secret" if UPS_ENV == "sandbox" else "")
UPS_SHIPPER_NUMBER = env_str("UPS_SHIPPER_NUMBER", "A1B2C3" if UPS_ENV == "sandbox" else "")
UPS_SANDBOX_URL = env_str("UPS_SANDBOX_URL", "http://127.0.0.1:8765").rstrip("/")
UPS_CONNECT_TIMEOUT = env_float("UPS_CONNECT_TIMEOUT", 5.0, minimum=0.1)
UPS_READ_TIMEOUT = env_float("UPS_READ_TIMEOUT", 30.0, minimum=0.1)
UPS_MAX_RETRIES = env_int("UPS_MAX_RETRIES", 3, minimum=0)
UPS_TRANSACTION_SRC = env_str("UPS_TRANSACTION_SRC", "ShipOps")
# Backoff between retries of calls without side effects: first wait in seconds (doubling,
# with jitter), and the longest wait (a longer Retry-After gives up at once).
UPS_RETRY_BACKOFF = env_float("UPS_RETRY_BACKOFF", 0.5)
UPS_RETRY_MAX_WAIT = env_float("UPS_RETRY_MAX_WAIT", 30.0)
# A ship request not sent within this many seconds of its row going in flight (a slow
# token fetch, retries of a connection that never opened) is not sent at all: the row
# stays pending. "Mark not shipped" waits this plus one connect and read timeout.
UPS_SHIP_SEND_SECONDS = env_float("UPS_SHIP_SEND_SECONDS", 30.0, minimum=0.1)
UPS_SHIP_FROM = {
    "name": env_str("UPS_SHIP_FROM_NAME", "ShipOps Demo Warehouse"),
    "phone": env_str("UPS_SHIP_FROM_PHONE", "4045550100"),
    "address_line": env_str("UPS_SHIP_FROM_ADDRESS", "55 Glenlake Pkwy NE"),
    "city": env_str("UPS_SHIP_FROM_CITY", "Atlanta"),
    "state": env_str("UPS_SHIP_FROM_STATE", "GA"),
    "postal_code": env_str("UPS_SHIP_FROM_POSTAL_CODE", "30328"),
    "country": env_str("UPS_SHIP_FROM_COUNTRY", "US"),
}
# A worker renews its lease between UPS calls, so one call must fit inside a lease.
if SHIPOPS_LEASE_SECONDS <= UPS_CONNECT_TIMEOUT + UPS_READ_TIMEOUT:
    raise ImproperlyConfigured(
        f"SHIPOPS_LEASE_SECONDS={SHIPOPS_LEASE_SECONDS} must be longer than one UPS call may "
        f"take (UPS_CONNECT_TIMEOUT + UPS_READ_TIMEOUT = "
        f"{UPS_CONNECT_TIMEOUT + UPS_READ_TIMEOUT:g} s), or a working worker would look dead."
    )
if UPS_ENV != "sandbox" and PRODUCTION:
    for _name in ("UPS_CLIENT_ID", "UPS_CLIENT_SECRET", "UPS_SHIPPER_NUMBER"):
        env_required(_name, f"UPS_ENV={UPS_ENV} needs UPS credentials from the environment.")

# Security: strict in production, relaxed only for local development over http.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env_str("SHIPOPS_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "shipops.logs.RedactSecretsFilter"}},
    "formatters": {
        "json": {"()": "shipops.logs.JsonFormatter"},
        "console": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("SHIPOPS_LOG_FORMAT", "json" if PRODUCTION else "console"),
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django-q": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
