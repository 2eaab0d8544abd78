"""Waymark settings: one module; what differs between machines comes from the environment.

Defaults are for a new user on a laptop: SQLite in the project folder, Celery tasks run in-process,
emails printed to the console. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and DEBUG=0.
"""

import ipaddress
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file in the project folder fills in what the environment leaves unset. `make run` writes
# one with DEBUG=1, so the manage.py commands you run by hand share the server's development
# settings. ENV_FILE names another file; set empty, none is read.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. For development, set DEBUG=1 "
            "(`make run` writes it to .env)."
        )
    SECRET_KEY = "waymark-insecure-development-key-never-use-in-production"
# Earlier keys, comma-separated, while rotating SECRET_KEY: sessions, signed links and the
# addresses of share links made under them keep working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base for links that leave the site (emails, feeds).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.apps.WaymarkAdminConfig",  # django.contrib.admin, with the queue health page
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "simple_history",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "roadmap",
]

MIDDLEWARE = [
    "config.middleware.RequestLogMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "config.middleware.NulRefusalMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every GET and 304 answers to If-None-Match (the API's conditional requests).
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user on every history row (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.CurrentWorkspaceMiddleware",
]

# A request body over this is refused (413) before anything reads it. CSV imports take up to 2 MB
# and say so in a form error; past this bound a client gets no more than the refusal.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=10 * 1024 * 1024)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reuse connections, but check them first so a restarted server is survived.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable server fails a request within seconds (a clean 503) instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # No JIT: PostgreSQL compiles a plan whose estimated cost passes jit_above_cost (100,000),
    # which the home page's counts of a large product do, and compiling costs more than our
    # short queries save. EXPLAIN (ANALYZE) on PostgreSQL 15, jit on / off: the home page's
    # counts for a workspace of 10k features 320-377 ms / 48-93 ms (JIT 200-260 ms of it);
    # at 1M features JIT adds 0.23-0.29 s to the counts and 0.95-1.1 s (inlining and
    # optimisation) to the top features, the rest being the plans' own work.
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(
        filter(None, [DATABASES["default"]["OPTIONS"].get("options", ""), "-c jit=off"])
    )
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "roadmap:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Redis, Celery, cache -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")


def _redis_db(url: str, db: int) -> str:
    """The same Redis server, another database number: the cache never shares the broker's."""
    base = url.rsplit("/", 1)[0] if url.rsplit("/", 1)[-1].isdigit() else url.rstrip("/")
    return f"{base}/{db}"


if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, except that a Redis outage degrades to a per-process cache
            # instead of answering 500 (config/cache.py; README "Deploying").
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": env("CACHE_URL", default=_redis_db(REDIS_URL, 1)),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="waymark"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The broker: Redis (REDIS_URL) unless CELERY_BROKER_URL names another, e.g. RabbitMQ
# (amqp://…), which gives a killed worker's tasks back at once and never loses one it had taken.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
BROKER_IS_REDIS = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
CELERY_RESULT_BACKEND = REDIS_URL or None
# Nothing reads task results. Storing none also keeps a publish off the result backend, which
# otherwise subscribes to the result first and, with Redis down, retries that for 20 s.
CELERY_TASK_IGNORE_RESULT = True
# Without a broker the app still works: tasks run in-process when they are enqueued.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://"
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if BROKER_IS_REDIS:
    # A publish must not hang a web request when Redis is down: fail fast, the sweeper catches
    # up. A task unacknowledged this long (its worker died) is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
elif CELERY_BROKER_URL.startswith("amqp"):
    # A publish returns once RabbitMQ has the message (else it raises: the sweepers catch up).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # RabbitMQ gives a task back the moment its worker's connection drops: a task still running
    # in that worker can no longer be acknowledged, so stop it rather than run it twice at once.
    CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# One quick retry (a pooled connection may be stale after a Redis restart), then give up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# Workers, on the other hand, wait for the broker to come back however long it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE = {
    "recompute-pending-scores": {
        "task": "roadmap.tasks.recompute_pending_products",
        "schedule": 60.0,
    },
    "recompute-all-scores": {
        "task": "roadmap.tasks.recompute_all_products",
        "schedule": 24 * 60 * 60.0,
    },
    "enqueue-due-digests": {
        "task": "roadmap.tasks.enqueue_due_digests",
        "schedule": 5 * 60.0,
    },
    "requeue-stale-digests": {
        "task": "roadmap.tasks.requeue_stale_digests",
        "schedule": 60.0,
    },
    "retry-webhooks": {
        "task": "roadmap.tasks.retry_due_webhooks",
        "schedule": 60.0,
    },
    "take-rank-snapshots": {  # today's snapshot, overwritten by each run, so no day is missed
        "task": "roadmap.tasks.take_rank_snapshots",
        "schedule": 6 * 60 * 60.0,
    },
    "sweep-csv-uploads": {
        "task": "roadmap.tasks.sweep_csv_uploads",
        "schedule": 15 * 60.0,
    },
}
# Every entry this often instead (seconds), to watch the schedule work in a demo or a test.
if env("BEAT_EVERY_SECONDS", default=""):
    for _entry in CELERY_BEAT_SCHEDULE.values():
        _entry["schedule"] = env.float("BEAT_EVERY_SECONDS")
# Without a broker nothing else runs the schedule: the web process does (config/beat.py).
IN_PROCESS_BEAT = env.bool("IN_PROCESS_BEAT", default=CELERY_TASK_ALWAYS_EAGER)

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if env("EMAIL_URL", default=""):
    # e.g. smtp+tls://user:password@smtp.example.com:587 sets backend, host, port and credentials.
    globals().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Waymark <waymark@localhost>")

# --- Invitations ---------------------------------------------------------------------------
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)

# --- Webhooks ------------------------------------------------------------------------------
# Networks (CIDRs) a self-hosted install may post webhooks into, e.g. 10.0.0.0/8; by default only
# public addresses are sent to (roadmap/integrations/outbound.py).
WEBHOOK_ALLOWED_NETWORKS = [
    n.strip() for n in env.list("WEBHOOK_ALLOWED_NETWORKS", default=[]) if n.strip()
]
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_error}") from None

# --- REST framework ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an unauthenticated request is answered 401 with WWW-Authenticate: Bearer.
        "roadmap.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["roadmap.api.permissions.IsMemberWithRole"],
    "DEFAULT_THROTTLE_CLASSES": ["roadmap.api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "roadmap.api.schema.WaymarkAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["roadmap.api.renderers.JSONRenderer"],
    # DRF's JSON parser with bounds on the body's size and nesting (roadmap/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["roadmap.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "roadmap.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="1200/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Waymark API",
    "DESCRIPTION": (
        "Product priorities and roadmaps for engineers' tools. Authenticate with a personal "
        "access token: `Authorization: Bearer wmk_…`. Lists are paginated (`page`, `page_size` "
        "up to 200) and answer `ETag`; send `If-None-Match` to get a 304 when nothing changed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI's files come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "FeatureStatusEnum": "roadmap.planning.models.feature.FeatureStatus",
        "HorizonEnum": "roadmap.planning.models.roadmap.Horizon",
        "WebhookEventEnum": "roadmap.integrations.models.webhooks.WebhookEvent",
    },
}

# --- Security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy appends the address it saw to X-Forwarded-For; rate limits key on that one.
    REST_FRAMEWORK["NUM_PROXIES"] = 1
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and load balancers speak plain HTTP to the container.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    # Only a plain-HTTP loopback load test turns these off (SECURE_COOKIES=0).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a commitment made to browser vendors for the whole domain, hard to undo:
        # the operator opts in (SECURE_HSTS_PRELOAD=1); not asking for it is not a finding.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One JSON line per request (config.middleware.RequestLogMiddleware).
        "waymark.access": {"level": env("ACCESS_LOG_LEVEL", default="INFO")},
    },
}
