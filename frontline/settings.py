"""Frontline settings: everything comes from the environment (see frontline/env.py).

FRONTLINE_ENV selects a profile: ``development`` (default), ``production`` or ``test``.
In production, ``manage.py check --deploy`` must report nothing.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from celery.schedules import crontab

from frontline.core.logging import logging_config
from frontline.env import (
    EnvError,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_cache_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FRONTLINE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

FRONTLINE_ENV = env_str("FRONTLINE_ENV", "development")
if FRONTLINE_ENV not in {"development", "production", "test"}:
    raise EnvError("FRONTLINE_ENV must be development, production or test")
PRODUCTION = FRONTLINE_ENV == "production"

_DEV_SECRET = "dev-only-secret-key-not-for-production-5f1c9a7e2b8d4c6a0e3f7b9d1a5c8e2f"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET):
    raise EnvError("SECRET_KEY must be set to a long random value in production")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "frontline.core",
    "frontline.jobs",
    "frontline.accounts",
    "frontline.sites",
    "frontline.notifications",
    "frontline.desk",
    "frontline.field",
    "frontline.dispatch",
    "frontline.inspections",
    "frontline.incentives",
    "frontline.sync",
    "frontline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "frontline.core.middleware.RequestSizeLimitMiddleware",
    "frontline.core.middleware.RequestIdMiddleware",
    "frontline.core.middleware.RequestLogMiddleware",
    "frontline.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "frontline.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "frontline.urls"
WSGI_APPLICATION = "frontline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontline.core.context_processors.frontline",
                "frontline.notifications.context_processors.inbox",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        # The default database lives in FRONTLINE_VAR_DIR beside the embedded broker.
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'frontline.sqlite3'}"),
        base_dir=BASE_DIR,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Login throttling: django-axes keeps failures in the database (atomic across processes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "frontline" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(
    exist_ok=True
)  # WhiteNoise warns at start when it is missing (before collectstatic)
# Front-end packages come from the npm registry at setup (package.json) and are served from here.
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bootstrap", _NODE / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/leaflet", _NODE / "leaflet" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
    ("vendor/jsqr", _NODE / "jsqr" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STATICFILES_FINDERS = [
    "frontline.core.staticfiles.VendorFinder",  # only the vendor files the pages use
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

_email = email_from_url(env_str("EMAIL_URL", "console://"))
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Frontline <noreply@frontline.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REDIS_URL = env_str("REDIS_URL", "")
# The cache's own Redis database (REDIS_CACHE_URL, by default the one after REDIS_URL's),
# never the broker's: clearing the cache (FLUSHDB) would drop the queued jobs.
REDIS_CACHE_URL = redis_cache_url(
    broker_url=REDIS_URL,
    cache_url=env_str("REDIS_CACHE_URL", ""),
    # Parallel test processes (pytest-xdist) each clear a cache database of their own.
    offset=int("0" + "".join(filter(str.isdigit, os.environ.get("PYTEST_XDIST_WORKER", ""))))
    if FRONTLINE_ENV == "test"
    else 0,
)
MQTT_URL = env_str("MQTT_URL", "")

if REDIS_CACHE_URL:
    # A cache that answers "miss" when Redis is down (frontline/core/cache.py): pages,
    # throttles and sessions keep working; short timeouts so a dead Redis costs little.
    CACHES = {
        "default": {
            "BACKEND": "frontline.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set, otherwise an embedded broker on SQLite so that
# `make run` needs no server.
CELERY_BROKER_URL = REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker killed mid-job (OOM, SIGKILL, lost machine) leaves its message unacknowledged:
# the broker hands it out again (see docs/reliability.md; jobs guard their side effects).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Publishing must never hold a web request for long: a short connect timeout, one quick
# retry; what cannot be published waits in the job outbox (frontline/jobs).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if REDIS_URL:  # Redis-only options (the embedded broker hands its options to SQLAlchemy)
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        # Longer than the longest job (a plan run): an unacknowledged message comes
        # back after this many seconds.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
        # A worker killed while it holds the restore lock keeps the others from restoring
        # messages until the lock expires (kombu's default: 300 s).
        "unacked_mutex_expire": env_int("CELERY_UNACKED_MUTEX_EXPIRE", 300),
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
# Seconds a job stays in the outbox before the relay publishes it (the commit hook
# normally has already); jobs.relay_pending runs this often.
JOBS_RELAY_AFTER_S = env_int("JOBS_RELAY_AFTER_S", 5)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The daily issue report is emailed to managers at this time of day (Asia/Shanghai).
DESK_DAILY_REPORT_HOUR = env_int("DESK_DAILY_REPORT_HOUR", 8)
DESK_DAILY_REPORT_MINUTE = env_int("DESK_DAILY_REPORT_MINUTE", 30)
# Threads (each with its own database connection) the SLA sweep runs its batches on,
# on PostgreSQL: one checks a batch while another waits on the database.
DESK_SLA_SWEEP_WORKERS = env_int("DESK_SLA_SWEEP_WORKERS", 2)
# A check-in farther than this from the site is accepted but flagged.
FIELD_CHECK_IN_RADIUS_M = env_int("FIELD_CHECK_IN_RADIUS_M", 500)
# How far ahead the beat job creates scheduled rounds.
INSPECTIONS_GENERATE_AHEAD_HOURS = env_int("INSPECTIONS_GENERATE_AHEAD_HOURS", 48)
# A round started but not finished this long after its window closed is given up as missed.
INSPECTIONS_ABANDON_AFTER_HOURS = env_int("INSPECTIONS_ABANDON_AFTER_HOURS", 12)
# The award scanner pays events of this many past days (each pays once, whenever found).
INCENTIVES_AWARD_LOOKBACK_DAYS = env_int("INCENTIVES_AWARD_LOOKBACK_DAYS", 7)
CELERY_BEAT_SCHEDULE: dict = {
    "desk-sla-sweep": {
        "task": "frontline.desk.tasks.sweep_sla",
        "schedule": 60,
    },
    "purge-expired-api-tokens": {
        "task": "frontline.accounts.tasks.purge_expired_tokens",
        "schedule": 60 * 60 * 6,
    },
    "notifications-send-email": {
        "task": "frontline.notifications.tasks.send_pending_emails",
        "schedule": 60,
    },
    "field-expire-offers": {
        "task": "frontline.field.tasks.expire_offers",
        "schedule": 60,
    },
    "dispatch-fail-stale-runs": {
        "task": "frontline.dispatch.tasks.fail_stale_runs",
        "schedule": 300,
    },
    # Rounds are generated this far ahead; a missed run is caught up on the next one.
    "inspections-generate-rounds": {
        "task": "frontline.inspections.tasks.generate_rounds",
        "schedule": 15 * 60,
    },
    "inspections-close-overdue-rounds": {
        "task": "frontline.inspections.tasks.close_overdue_rounds",
        "schedule": 5 * 60,
    },
    "inspections-sync-anomaly-outcomes": {
        "task": "frontline.inspections.tasks.sync_anomaly_outcomes",
        "schedule": 5 * 60,
    },
    # Photo uploads left open a week end and their waiting bytes go (sync.uploads).
    "sync-remove-stale-uploads": {
        "task": "frontline.sync.tasks.remove_stale_uploads",
        "schedule": 60 * 60 * 24,
    },
    "incentives-award-points": {
        "task": "frontline.incentives.tasks.award_points",
        "schedule": 5 * 60,
    },
    "jobs-relay-pending": {
        "task": "frontline.jobs.tasks.relay_pending",
        "schedule": 30,
    },
    "desk-daily-report": {
        "task": "frontline.desk.tasks_reports.email_daily_report",
        "schedule": crontab(hour=DESK_DAILY_REPORT_HOUR, minute=DESK_DAILY_REPORT_MINUTE),
    },
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", FRONTLINE_ENV == "test")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "frontline.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "frontline.accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "frontline.core.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "frontline.core.rest.StrictQueryParamsBackend",
        "django_filters.rest_framework.DjangoFilterBackend",
        "frontline.core.rest.SearchBackend",
        "frontline.core.rest.AllowlistOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "frontline.core.rest.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env_str("API_ANON_RATE", "60/minute")},
    # Throttles identify clients by REMOTE_ADDR; X-Forwarded-For is read only behind a
    # configured proxy (TRUST_PROXY_HEADERS), and then only the proxy's own entry.
    "NUM_PROXIES": 1 if env_bool("TRUST_PROXY_HEADERS", False) else 0,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Frontline API",
    "DESCRIPTION": "Service operations platform API. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "frontline.core.schema.add_common_errors",
        "frontline.core.schema.times_of_day_as_patterns",
        "frontline.core.schema.staff_only_keys_optional",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "frontline.accounts.roles.Role",
        "OrganizationKindEnum": "frontline.accounts.models.OrganizationKind",
        "TicketStatusEnum": "frontline.desk.states.TicketStatus",
        "HandOffStatusEnum": "frontline.desk.states.HandOffStatus",
        "SeverityEnum": "frontline.desk.states.Severity",
        "TierEnum": "frontline.desk.states.Tier",
        "ProblemStatusEnum": "frontline.desk.models.problems.ProblemStatus",
        "WorkOrderStatusEnum": "frontline.field.states.WorkOrderStatus",
        "GrabOfferStatusEnum": "frontline.field.states.OfferStatus",
        "WorkOrderEventKindEnum": "frontline.field.states.EventKind",
        "PlanStatusEnum": "frontline.dispatch.models.PlanStatus",
        "PriorityEnum": "frontline.field.states.Priority",
        "WorkOrderTypeEnum": "frontline.field.states.WorkOrderType",
        "RoundStatusEnum": "frontline.inspections.states.RoundStatus",
        "AnomalyStatusEnum": "frontline.inspections.states.AnomalyStatus",
        "AnomalySourceEnum": "frontline.inspections.states.AnomalySource",
        "CheckItemKindEnum": "frontline.inspections.states.ItemKind",
        "VisitStatusEnum": "frontline.inspections.states.VisitStatus",
        "SkipReasonEnum": "frontline.inspections.states.SkipReason",
        "ScheduleKindEnum": "frontline.inspections.states.ScheduleKind",
        "KpiKindEnum": "frontline.inspections.states.KpiKind",
        "RedemptionStatusEnum": "frontline.incentives.states.RedemptionStatus",
        "LedgerEntryKindEnum": "frontline.incentives.states.EntryKind",
    },
}

# Maps: the tile URL is a setting; an empty value shows the map without tiles.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# No request body may be larger than this (ten 10 MB attachments and their multipart framing).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 110 * 1024 * 1024)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from a meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxy headers are trusted only when a reverse proxy is explicitly configured.
if env_bool("TRUST_PROXY_HEADERS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancer probes and Prometheus talk to gunicorn directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not ALLOWED_HOSTS:
        raise EnvError("ALLOWED_HOSTS must list the host names served in production")

# LOG_FORMAT: json (one object per line with the request id; the production default)
# or text. See frontline/core/logging.py for the fields.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise EnvError("LOG_FORMAT must be json or text")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
# Celery workers log through LOGGING above instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics (Prometheus): answered to a direct connection from these addresses or
# networks, or to `Authorization: Bearer <METRICS_TOKEN>`; a 404 to anyone else.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
try:
    [ipaddress.ip_network(item, strict=False) for item in METRICS_ALLOWED_IPS]
except ValueError as exc:
    raise EnvError(f"METRICS_ALLOWED_IPS: {exc}") from exc
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

if FRONTLINE_ENV == "test":
    # Fast hashing in tests only; the production list above stays Argon2-first.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    CELERY_BROKER_URL = REDIS_URL or "memory://"
    # Live-server threads must not keep connections open past a request: PostgreSQL
    # refuses to drop the test database while a session is still attached.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
