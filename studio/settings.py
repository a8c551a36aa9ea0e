"""Settings, read from the environment; every variable is documented in README.md.

With no environment at all the studio runs on embedded defaults: SQLite (WAL) and a
filesystem Celery broker under `.data/`, media files under `.data/media/`.

This is the one place the environment is read: engine credentials, hosts and timeouts included;
everything else uses `django.conf.settings` (tests override with the `settings` fixture). The
documented exceptions, none of them a setting of the running studio: `manage.py`, `wsgi.py` and
`celery.py` set DJANGO_SETTINGS_MODULE before settings exist; `gunicorn.conf.py` is read by the
gunicorn arbiter, which does not load Django; `bench/` scripts take their own knobs; tests hand
variables to worker subprocesses (and `tests/support/slow_engine.py` is switched on that way);
`generations/engines/local.py` sets U2NET_HOME for rembg, which reads it only from there.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("STUDIO_DATA_DIR", BASE_DIR / ".data"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_str(name: str, default: str = "") -> str:
    return (os.environ.get(name) or default).strip()


def env_float(name: str, default: float) -> float:
    # Lenient like the engines always were: an unset, empty or malformed value means the default.
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


# Off unless asked for: `make run` serves the studio as its users see it (friendly error pages,
# no URL listings); development sets DEBUG=true.
DEBUG = env_bool("DEBUG", False)
# "Local" means one machine's own SQLite: no DATABASE_URL, or a sqlite: one (the test workers).
# Local runs may generate their SECRET_KEY into STUDIO_DATA_DIR and use plain-http cookies.
IS_LOCAL = not os.environ.get("DATABASE_URL") or os.environ["DATABASE_URL"].startswith("sqlite:")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG and not IS_LOCAL:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off outside local runs.")
    # Generated once for local runs so sessions and signed links survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "studio",
    "generations",
    "generations.scenes",
    "mockups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Public mockup URLs (/m/<template>) are answered here, before the page middleware, as
    # WhiteNoise answers /static/ (mockups/middleware.py).
    "mockups.middleware.MockupUrlMiddleware",
    # The "PagesOnly" ones are Django's and django-htmx's own, skipped on the API routes'
    # paths (studio.middleware.API_PREFIXES: key-authenticated, csrf-exempt JSON views).
    "studio.middleware.PagesOnlySessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "studio.middleware.PagesOnlyCsrfViewMiddleware",
    # After CSRF (whose process_view reads forms first); skips API views (see studio/hygiene.py).
    "studio.middleware.HygieneMiddleware",
    "studio.middleware.PagesOnlyAuthenticationMiddleware",
    "studio.middleware.PagesOnlyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "studio.middleware.PagesOnlyHtmxMiddleware",
    "studio.middleware.CurrentShopMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "studio.context_processors.current_shop",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
# DATABASE_URL=sqlite:///path keeps the SQLite tuning below (worker subprocesses in tests use it).
_SQLITE_URL = os.environ.get("DATABASE_URL", "").startswith("sqlite:")
if IS_LOCAL or _SQLITE_URL:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": (
                dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"]
                if _SQLITE_URL
                else DATA_DIR / "studio.sqlite3"
            ),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE avoids
                # "database is locked" upgrades inside write transactions.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                " PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a FILE, not an in-memory database, so that a real Celery worker in
            # another process (tests/integration) can open the same test database.
            "TEST": {"NAME": str(DATA_DIR / "test_studio.sqlite3")},
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})
        # Django's backend with a health check that reads the idle socket instead of sending
        # SELECT 1 on every request (studio/postgres/base.py).
        DATABASES["default"]["ENGINE"] = "studio.postgres"
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, idempotency locks) ---------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
if not CACHE_URL and os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
    CACHE_URL = os.environ["CELERY_BROKER_URL"]
if CACHE_URL.startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis that is down or unreachable fails a cache call in about a second instead
            # of hanging the request (throttles then allow; see docs/operations.md).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by the web server and the worker processes on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Throttles on people-facing doors (studio/throttle.py, Django's cache) ---------------------
# name: {"limit": events, "window": seconds, "lockout": seconds refused once over (0: rest of
# the window)}. THROTTLE_RATES (JSON) overrides single entries, e.g. '{"login-account":
# {"limit": 5, "window": 900, "lockout": 1800}}'.
THROTTLE_RATES: dict[str, dict[str, int]] = {
    # Failed log-ins: per account (whether it exists or not) and per client address.
    "login-account": {"limit": 10, "window": 900, "lockout": 900},
    "login-address": {"limit": 50, "window": 900, "lockout": 900},
    # Sign-ups (confirmation mails) per client address, and mails per email address (silent).
    "signup-address": {"limit": 5, "window": 3600},
    "signup-email": {"limit": 3, "window": 3600},
    # Password-reset requests per client address, and mails per email address (silent).
    "password-reset-address": {"limit": 5, "window": 3600},
    "password-reset-email": {"limit": 3, "window": 3600},
    # Invitation links that do not exist, per client address.
    "invite-address": {"limit": 20, "window": 3600},
    # Public orders from buy links: per client address and per shop.
    "order-address": {"limit": 10, "window": 600},
    "order-shop": {"limit": 600, "window": 3600},
    # Requests with an invalid API key, per client address (429 with Retry-After once over).
    "api-bad-key": {"limit": 20, "window": 600},
    # Fresh renders (cache misses) of UNSIGNED mockup URLs, per shop and per client address.
    "mockup-unsigned-shop": {"limit": 300, "window": 60},
    "mockup-unsigned-address": {"limit": 30, "window": 60},
}
try:
    for _name, _rate in json.loads(os.environ.get("THROTTLE_RATES") or "{}").items():
        THROTTLE_RATES[_name] = {**THROTTLE_RATES.get(_name, {}), **_rate}
except (ValueError, AttributeError) as exc:
    raise ImproperlyConfigured(f"THROTTLE_RATES is not a JSON object of objects: {exc}") from exc
# Reverse proxies (CIDRs) whose X-Forwarded-For is believed when working out a client's address.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# --- Auth --------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "studio@localhost")

# --- I18N / static / media ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# WhiteNoise serves static files with DEBUG off too, straight from the app's static folders, so
# `make run` needs no collectstatic (a deployment may still collect them to STATIC_ROOT).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    # S3-compatible storage; endpoint, keys and region come from the AWS_* variables.
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Public origin of stored files (e.g. https://files.example.com). Empty: the request's own host.
STORAGE_PUBLIC_ORIGIN = os.environ.get("STORAGE_PUBLIC_ORIGIN", "").rstrip("/")
# Public origin of the site itself, used in links that leave a request (emails, webhooks).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Unset, emailed links (invitations, sign-up confirmations) use the origin the request came in
# on; SITE_URL's default above only serves links made outside any request (webhook payloads).
SITE_URL_IS_SET = bool(os.environ.get("SITE_URL", "").strip())

# --- Uploads and images -------------------------------------------------------------------------
IMAGE_MAX_BYTES = int(os.environ.get("IMAGE_MAX_BYTES", str(25 * 1024 * 1024)))
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", str(40_000_000)))
DATA_UPLOAD_MAX_MEMORY_SIZE = IMAGE_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _queue_dir = DATA_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_queue_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Exchange bindings; kombu's default is ./control in whatever directory the process runs.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis: a task not acknowledged within this window is redelivered (acks_late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Integration tests give each run its own queue so a `make run` worker never takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True  # the Job row is the source of truth
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "600"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
# How long a warm shutdown (SIGTERM) may wait for running tasks before a cold one (studio/celery.py).
CELERY_WORKER_SHUTDOWN_SECONDS = float(
    os.environ.get("CELERY_WORKER_SHUTDOWN_SECONDS", str(CELERY_TASK_SOFT_TIME_LIMIT))
)
# An embedded beat (`worker --beat`) sleeps between ticks; a short tick lets it stop promptly.
CELERY_BEAT_MAX_LOOP_INTERVAL = 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-expired-leases": {
        "task": "generations.tasks.sweep_jobs",
        "schedule": float(os.environ.get("JOB_SWEEP_SECONDS", "15")),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Jobs: how long a claim holds before the sweeper may re-queue it, and how often a job is tried.
JOB_LEASE_SECONDS = int(os.environ.get("JOB_LEASE_SECONDS", "120"))
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "3"))
# How many jobs the workers run at once in all (their total --concurrency): queue-time estimates
# (seed 004's estimated_time_seconds) divide the work waiting ahead by it.
JOB_CONCURRENCY = int(os.environ.get("JOB_CONCURRENCY", "1"))

# --- Credits ----------------------------------------------------------------------------------------
NEW_SHOP_PLAN_BUDGET_CENTS = int(os.environ.get("NEW_SHOP_PLAN_BUDGET_CENTS", "500"))
NEW_SHOP_WALLET_CENTS = int(os.environ.get("NEW_SHOP_WALLET_CENTS", "0"))
DEFAULT_PRICE_CENTS_PER_IMAGE = int(os.environ.get("DEFAULT_PRICE_CENTS_PER_IMAGE", "1"))

# --- Mockups ------------------------------------------------------------------------------------------
# A fresh render of a mockup URL is charged to the shop (seed 000; cache hits are free): a
# PriceRule of kind "mockup" sets the price, else this. The stored renders of one shop are kept
# under MOCKUP_RENDER_CACHE_MB_PER_SHOP, the oldest evicted first.
MOCKUP_RENDER_PRICE_CENTS = int(os.environ.get("MOCKUP_RENDER_PRICE_CENTS", "1"))
MOCKUP_RENDER_CACHE_MB_PER_SHOP = float(os.environ.get("MOCKUP_RENDER_CACHE_MB_PER_SHOP", "512"))
# Memory one process may keep of prepared product layers and decoded designs (mockups/render.py).
MOCKUP_CACHE_MB = float(os.environ.get("MOCKUP_CACHE_MB", "256"))

# --- Engines ----------------------------------------------------------------------------------------
DEFAULT_MODEL = os.environ.get("DEFAULT_MODEL", "builtin:procedural")
# Extra public model names: {"name": {"engine": "...", "model": "...", "capabilities": [...]}}
try:
    STUDIO_MODELS: dict[str, dict] = json.loads(os.environ.get("STUDIO_MODELS") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f"STUDIO_MODELS is not valid JSON: {exc}") from exc
# Which model serves an image operation when a request names none, by capability:
# {"background-removal": "stability-remove-background"}. Unset: the offline builtin engine.
try:
    DEFAULT_OPERATION_MODELS: dict[str, str] = json.loads(
        os.environ.get("DEFAULT_OPERATION_MODELS") or "{}"
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DEFAULT_OPERATION_MODELS is not valid JSON: {exc}") from exc

# Engine modules beyond the built-in ones (plugins, test engines): comma-separated dotted paths.
STUDIO_EXTRA_ENGINES = env_list("STUDIO_EXTRA_ENGINES")
# Remote engines (generations/engines/, docs/engines.md). An engine is configured when its
# credential (or URL) below is set; its base-URL setting moves it to a proxy or a compatible host
# ("" = the provider's own). Engines read these through django.conf.settings when they run.
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
OPENAI_ORG_ID = env_str("OPENAI_ORG_ID")
OPENAI_PROJECT_ID = env_str("OPENAI_PROJECT_ID")
OPENAI_TIMEOUT = env_float("OPENAI_TIMEOUT", 300.0)
REPLICATE_API_TOKEN = env_str("REPLICATE_API_TOKEN")
REPLICATE_BASE_URL = env_str("REPLICATE_BASE_URL")
REPLICATE_WAIT_SECONDS = env_float("REPLICATE_WAIT_SECONDS", 60)
REPLICATE_WEBHOOK_URL = env_str("REPLICATE_WEBHOOK_URL")
FAL_KEY = env_str("FAL_KEY")
FAL_QUEUE_URL = env_str("FAL_QUEUE_URL")
STABILITY_API_KEY = env_str("STABILITY_API_KEY")
STABILITY_BASE_URL = env_str("STABILITY_BASE_URL")
A1111_URL = env_str("A1111_URL")
A1111_AUTH = env_str("A1111_AUTH")  # user:password
A1111_TIMEOUT = env_float("A1111_TIMEOUT", 600.0)
A1111_UPSCALER = env_str("A1111_UPSCALER", "R-ESRGAN 4x+")
COMFYUI_URL = env_str("COMFYUI_URL")
COMFYUI_WORKFLOW_DIR = env_str("COMFYUI_WORKFLOW_DIR")  # "" = generations/engines/comfyui_workflows
COMFYUI_CHECKPOINT = env_str("COMFYUI_CHECKPOINT", "sd_xl_base_1.0.safetensors")
COMFYUI_STEPS = env_float("COMFYUI_STEPS", 25)
COMFYUI_CFG = env_float("COMFYUI_CFG", 7.0)
# Local models (the local-models extra): an ONNX file for rembg, a saved diffusers pipeline.
REMBG_MODEL_PATH = env_str("REMBG_MODEL_PATH")
DIFFUSERS_MODEL_DIR = env_str("DIFFUSERS_MODEL_DIR")
DIFFUSERS_DEVICE = env_str("DIFFUSERS_DEVICE")  # "" = cuda when available, else cpu
DIFFUSERS_STEPS = env_float("DIFFUSERS_STEPS", 25)
# HTTP to providers: connect and read timeouts, status poll interval, the wall-clock budget for
# one provider job, and how often a long blocking call reports progress (renewing the lease).
ENGINE_CONNECT_TIMEOUT = env_float("ENGINE_CONNECT_TIMEOUT", 10.0)
ENGINE_READ_TIMEOUT = env_float("ENGINE_READ_TIMEOUT", 120.0)
ENGINE_POLL_INTERVAL = env_float("ENGINE_POLL_INTERVAL", 1.0)
ENGINE_JOB_TIMEOUT = env_float("ENGINE_JOB_TIMEOUT", 900.0)
ENGINE_HEARTBEAT_SECONDS = env_float("ENGINE_HEARTBEAT_SECONDS", 10.0)

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not IS_LOCAL)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Outbound fetches of user-supplied URLs (studio/fetch.py) ---------------------------------
# CIDRs the SSRF-safe fetcher may reach although they are not public (e.g. an internal CDN).
FETCH_ALLOWED_NETWORKS = env_list("FETCH_ALLOWED_NETWORKS")
# One wall-clock deadline per fetch (DNS + connect + TLS + headers + body, all redirects), for
# uploads by URL, reference images and mockup sources; webhooks use WEBHOOK_TIMEOUT_SECONDS and
# engine output downloads ENGINE_DOWNLOAD_SECONDS, enforced the same way.
FETCH_DEADLINE_SECONDS = float(os.environ.get("FETCH_DEADLINE_SECONDS", "15"))
# Fetches of user-supplied URLs running at once for one shop, and how long one waits for a slot.
FETCH_CONCURRENCY_PER_SHOP = int(os.environ.get("FETCH_CONCURRENCY_PER_SHOP", "4"))
FETCH_SLOT_WAIT_SECONDS = float(os.environ.get("FETCH_SLOT_WAIT_SECONDS", "2"))
ENGINE_DOWNLOAD_SECONDS = float(os.environ.get("ENGINE_DOWNLOAD_SECONDS", "120"))

# --- The HTTP API (generations/api/, studio/apikeys.py, studio/ratelimit.py) -------------------
# Requests per minute per API key when the shop sets none (Shop.api_rate_limit_per_minute = 0).
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "60"))
# Seconds an authenticated API key (with its shop) is kept per process; a key revoked elsewhere
# works in other processes for at most this long. 0 looks every key up on every request.
API_KEY_CACHE_SECONDS = float(os.environ.get("API_KEY_CACHE_SECONDS", "5"))
# The hottest API reads are server-side prepared statements on PostgreSQL (studio/compiled.py);
# off for a pooler in transaction mode, which does not keep a session's statements.
PREPARED_QUERIES = env_bool("PREPARED_QUERIES", True)
# Redis for rate-limit counters; defaults to CACHE_URL (itself defaulting to a Redis broker URL).
RATELIMIT_REDIS_URL = os.environ.get("RATELIMIT_REDIS_URL", "")
# How long synchronous API routes wait for a job before answering 504 (seed 002: 180 s).
API_SYNC_TIMEOUT_SECONDS = float(os.environ.get("API_SYNC_TIMEOUT_SECONDS", "180"))
# How long a request holds an Idempotency-Key before creating its job; a retry after this takes
# the key over (the first request died). Once the job exists, retries answer from the job.
API_IDEMPOTENCY_LEASE_SECONDS = float(os.environ.get("API_IDEMPOTENCY_LEASE_SECONDS", "60"))
# Check every API response against the generated OpenAPI document (the test suite turns it on;
# a mismatch raises). A debugging aid for staging, not for production traffic.
API_CHECK_RESPONSES = os.environ.get("API_CHECK_RESPONSES", "").lower() in ("1", "true", "yes")
# Seed 001 (/v1/images/*): the model behind each route, by route key (docs/api.md lists the keys
# and their defaults), e.g. {"edits:editing": "gpt-image-1", "try-on": "my-tryon-model"}; "" means
# the first configured model with the route's capability.
try:
    V1_IMAGES_MODELS: dict[str, str] = json.loads(os.environ.get("V1_IMAGES_MODELS") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f"V1_IMAGES_MODELS is not valid JSON: {exc}") from exc
# A /v1 task still CREATED (queued) this long after it was sent to the workers is sent again when
# it is polled (seed 001: "CREATED status older than 120 seconds").
V1_TASK_RESEND_SECONDS = float(os.environ.get("V1_TASK_RESEND_SECONDS", "120"))
# Sandbox shops: POST /shops/sandbox mints per client address per hour, and their credit grant.
SANDBOX_MINTS_PER_HOUR = int(os.environ.get("SANDBOX_MINTS_PER_HOUR", "10"))
SANDBOX_CREDIT_CENTS = int(os.environ.get("SANDBOX_CREDIT_CENTS", "500"))
# Webhooks: how long a failing delivery keeps being retried, and the per-attempt timeout.
WEBHOOK_RETRY_HOURS = float(os.environ.get("WEBHOOK_RETRY_HOURS", "24"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {
    "task": "generations.webhooks.sweep_webhooks",
    "schedule": 300.0,
}
# Stored files without their row (a worker killed mid-write) are removed once older than
# ORPHAN_GRACE_SECONDS, by a sweep every ORPHAN_SWEEP_SECONDS (generations/orphans.py).
ORPHAN_GRACE_SECONDS = float(os.environ.get("ORPHAN_GRACE_SECONDS", "3600"))
CELERY_BEAT_SCHEDULE["sweep-orphaned-files"] = {
    "task": "generations.tasks.sweep_orphans",
    "schedule": float(os.environ.get("ORPHAN_SWEEP_SECONDS", "3600")),
}
CELERY_BEAT_SCHEDULE["purge-idempotency-records"] = {
    "task": "generations.webhooks.purge_idempotency_records",
    "schedule": 3600.0,
}

# --- Staff review (docs/admin.md) ------------------------------------------------------------------
# Every shop's images wait for staff review before the public gallery shows them (a shop can also
# be put under review on its own from the admin).
GALLERY_REQUIRES_REVIEW = env_bool("GALLERY_REQUIRES_REVIEW", False)
# Reports of public images one signed-in user may send per hour.
REPORTS_PER_HOUR = int(os.environ.get("REPORTS_PER_HOUR", "10"))
# How long a staff member's read-only "view the studio as this shop" lasts before it ends itself.
VIEW_AS_MINUTES = int(os.environ.get("VIEW_AS_MINUTES", "60"))

# --- The design chat (generations/chat/, docs/chat.md) ------------------------------------------
# With CHAT_MODEL set, turns are planned by that model over an OpenAI-compatible chat-completions
# API (tool calling, streamed); without it (the default) by the offline planner. The offline
# planner is also the fallback when the model's provider fails.
# The model is reached with OPENAI_API_KEY / OPENAI_BASE_URL (the engines section above).
CHAT_MODEL = os.environ.get("CHAT_MODEL", "").strip()
# Model calls (each a step: text and tool calls) one turn may make before it must answer.
CHAT_MAX_STEPS = int(os.environ.get("CHAT_MAX_STEPS", "6"))
# Seconds to wait for the model's first byte and between streamed chunks.
CHAT_LLM_TIMEOUT = float(os.environ.get("CHAT_LLM_TIMEOUT", "30"))
# How long a chat stream (API or page) follows a turn before it answers "still running".
CHAT_STREAM_TIMEOUT_SECONDS = float(os.environ.get("CHAT_STREAM_TIMEOUT_SECONDS", "900"))
