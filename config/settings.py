"""Settings come from the environment; the defaults give the embedded setup.

Embedded (the default): SQLite in WAL mode, the in-memory channel layer, one
Daphne process. Scale-out: set DATABASE_URL and REDIS_URL.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RECIPROQUE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)


def _secret_key():
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# The embedded server is reached by phones at the laptop's LAN address, which
# we cannot know in advance; the websocket Origin check compares Origin with
# the request's own Host, so "*" does not open the sockets to other sites.
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "config.staticfiles.StaticFiles",
    "channels",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "workshops",
    "journeys",
    "mapping",
    "commitments",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "workshops.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before CSRF and the views: a flood is refused before its body is parsed.
    "workshops.ratelimit.AddressRateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
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
                "django.template.context_processors.i18n",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# Requests run on one shared sync thread (workshops/live/asgi.py), which keeps its
# connection between them; with Django's per-request threads a kept connection
# was never reused, only left open until PostgreSQL refused new clients.
CONN_MAX_AGE = 600
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "reciproque.sqlite3")),
            "OPTIONS": {
                # WAL lets readers go on while one writer commits; IMMEDIATE
                # takes the write lock at BEGIN, so concurrent writers queue
                # instead of failing with "database is locked" mid-transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
        }
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 5000, "expiry": 30},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workshops:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Facilitators have accounts; after the first one, sign-up stays closed
# unless this opens it.
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", False)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's output belongs to the code, not to one server's data (var/):
# every server started from this checkout, tests' included, serves the same one.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Phones on venue Wi-Fi: hashed names (cached for a year, `immutable`, so a
# reload asks for nothing) with brotli and gzip copies made once by collectstatic
# (`make run` runs it; docs/performance.md). Without its manifest a page cannot
# name its assets: workshops/live/asgi.py refuses to start then, unless DEBUG.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# DEBUG pages name the source files (Django skips the manifest then), served
# from the source folders as they change; otherwise only the collected files.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions are read on every request (who is this phone?). The embedded
# server (one process) reads them from its memory, written through to the
# database. Scaled out, they stay in the database only: Redis holds no state a
# request cannot do without, so a Redis restart never logs a room out.
if not REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A participant stays the same participant across reloads, sleep and a
# closed browser, through the 30-day review.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 120
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The refusal in the room's language and layout, with a way back (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "workshops.views.csrf_failure"

SECURE = env_bool("SECURE", False)  # behind TLS in production
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# `manage.py purge` deletes workshops idle for longer than this (see docs/privacy.md).
RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", 400))

# Limits on what one write may carry.
RECIPROQUE = {
    "POSTIT_MAX_LENGTH": 500,
    "NAME_MAX_LENGTH": 60,
    # A reconnecting page that missed more events than this gets a snapshot.
    "REPLAY_LIMIT": 200,
    # Frames a socket may have waiting before it is told to resync instead.
    "SOCKET_QUEUE_LIMIT": 1000,
    "JOIN_CODE_ATTEMPTS": 10,
    "JOIN_CODE_WINDOW_SECONDS": 600,
    # Writes (POSTs) per window, see workshops/ratelimit.py; 0 turns a limit off.
    # A whole room may share one address (NAT), hence the generous per-address
    # limit; `make bench` raises both from the environment.
    "RATE_LIMIT_WINDOW_SECONDS": 10,
    "RATE_LIMIT_PER_PARTICIPANT": int(os.environ.get("RATE_LIMIT_PER_PARTICIPANT", 20)),
    "RATE_LIMIT_PER_ADDRESS": int(os.environ.get("RATE_LIMIT_PER_ADDRESS", 200)),
}

# Every form here is small (a post-it is 500 characters): a body above this is
# refused with 400 before it is parsed. Imports are files, which this does not count.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024


def _hide_join_tokens():
    """A log filter: the join link's token never reaches the logs.

    Django logs the path of every 4xx (a join form with an error is a 400 on
    /j/<token>/), and whoever reads the logs must not be able to join.
    """
    import re

    token_in_path = re.compile(r"/j/[^/\s'\"]+")

    def hide(record):
        message = record.getMessage()
        if "/j/" in message:
            record.msg, record.args = token_in_path.sub("/j/…", message), ()
        return True

    return hide


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"hide_join_tokens": {"()": _hide_join_tokens}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["hide_join_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"reciproque": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}
