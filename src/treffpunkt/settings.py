"""Django settings for Treffpunkt.

Everything comes from the environment (see README "Configuration"). Without any variable the
embedded mode runs: SQLite under var/, in-memory channel layer, local-memory cache, tasks in
the database, mail written to files under var/mail.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from treffpunkt.config import (
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_email_url,
    secret_key_from_file,
)

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = SRC_DIR.parent.parent
VAR_DIR = Path(env_str("TREFFPUNKT_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_str("TREFFPUNKT_MODE", "embedded")
if MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured("TREFFPUNKT_MODE must be 'embedded' or 'production'")
PRODUCTION = MODE == "production"

DEBUG = env_bool("DEBUG", False)

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("production mode needs SECRET_KEY (50 characters or more)")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("production mode needs ALLOWED_HOSTS")
else:
    SECRET_KEY = env_str("SECRET_KEY", "") or secret_key_from_file(VAR_DIR / "secret_key")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The address links in e-mails point to. Mails are sent by a background task that has no request.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "treffpunkt.core",
    "treffpunkt.accounts",
    "treffpunkt.notifications",
    "treffpunkt.booking",
    "treffpunkt.calls",
    "treffpunkt.messaging",
    "treffpunkt.documents",
    "treffpunkt.backoffice",
    "treffpunkt.customers",
    "treffpunkt.contracts",
    "treffpunkt.billing",
    "treffpunkt.availability",
    "treffpunkt.support",
    "treffpunkt.portability",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "treffpunkt.accounts.middleware.SecondFactorMiddleware",
    "treffpunkt.accounts.middleware.UserLanguageMiddleware",
    "treffpunkt.accounts.middleware.TermsConsentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "treffpunkt.core.middleware.NotAllowedIsNotFound",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "treffpunkt.urls"
ASGI_APPLICATION = "treffpunkt.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "treffpunkt.core.context_processors.site",
                "treffpunkt.messaging.context_processors.unread",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    # No persistent connections: under ASGI every request runs in its own thread, where Django's
    # docs advise against them (they leak). psycopg's pool keeps connections instead, and bounds
    # them: a burst of requests waits for a connection rather than exhausting the server's.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_SIZE", 20),
            "timeout": env_int("DATABASE_POOL_TIMEOUT_SECONDS", 20),
        }
        # The pool checks each connection (one empty statement) before handing it out: after a
        # restart of PostgreSQL its idle connections are dead, and without the check the first
        # requests got them and answered 500 (2 of 20). Django 5.2 gives the pool psycopg's
        # ConnectionPool.check_connection for this setting; a "check" in the pool options
        # above would collide with it (TypeError).
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "treffpunkt.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while the task worker writes; IMMEDIATE
                # transactions take the write lock up front instead of failing half-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and channel layer ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "treffpunkt"),
        }
    }
    # Which of channels_redis's layers carries the events between processes (decision 0015):
    # "pubsub" (Redis PUBLISH/SUBSCRIBE, one connection per process) or "lists" (the older
    # layer: a Redis list per process, polled with BLPOP, with a capacity beyond which group
    # sends are dropped).
    CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
    if CHANNEL_LAYER == "lists":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # A pool large enough for many sockets closing at once (the default of 100
                    # raised MaxConnectionsError). No socket_timeout: channels_redis listens
                    # with a 5 s blocking read of its own, and with a client read timeout set,
                    # a socket closed while its listener was still connecting left that
                    # listener hanging for good (redis-py 7.4, Python 3.11).
                    "hosts": [
                        {
                            "address": REDIS_URL,
                            "max_connections": env_int("REDIS_MAX_CONNECTIONS", 2000),
                        }
                    ],
                    "prefix": env_str("CHANNEL_PREFIX", "treffpunkt"),
                    # Messages waiting per process, not per page: group sends beyond it are
                    # dropped without an error (the default of 100 lost three of four
                    # messages at 200 a second).
                    "capacity": env_int("CHANNEL_CAPACITY", 5000),
                },
            }
        }
    elif CHANNEL_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                # channels_redis's RedisPubSubChannelLayer, sending a change's events at once.
                "BACKEND": "treffpunkt.core.layers.PubSubChannelLayer",
                "CONFIG": {
                    "hosts": [REDIS_URL],
                    "prefix": env_str("CHANNEL_PREFIX", "treffpunkt"),
                },
            }
        }
    else:
        raise ImproperlyConfigured(
            f"CHANNEL_LAYER must be 'pubsub' or 'lists', not {CHANNEL_LAYER!r}"
        )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "treffpunkt.core.layers.ProcessChannelLayer"}}

# --- background tasks -------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- accounts and passwords -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
EMAIL_CONFIRMATION_HOURS = env_int("EMAIL_CONFIRMATION_HOURS", 48)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# Login throttling (django-axes): lock a user name from one address after repeated failures.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Its admin lists show login names, i.e. e-mail addresses, which operators must not see (P-ACC-3).
AXES_ENABLE_ADMIN = False

# --- languages and time -----------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "de")
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "treffpunkt_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# --- static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Issued documents (letters, invoices) under PRIVATE_FILES_DIR/documents, which the storage
    # reads when used; never under static or media, and it gives no URL.
    "documents": {
        "BACKEND": "treffpunkt.documents.storage.DocumentStorage",
        "OPTIONS": {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    },
    # Files sent with messages, in PRIVATE_FILES_DIR/attachments (where they always were).
    "attachments": {
        "BACKEND": "treffpunkt.documents.storage.PrivateStorage",
        "OPTIONS": {
            "subdirectory": "attachments",
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "treffpunkt.core.staticfiles.ModuleStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Embedded mode serves static files straight from the apps, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

# --- e-mail -----------------------------------------------------------------------------------
_mail = parse_email_url(env_str("EMAIL_URL", "file://"), default_file_path=VAR_DIR / "mail")
EMAIL_BACKEND = _mail.backend
EMAIL_HOST = _mail.host
EMAIL_PORT = _mail.port
EMAIL_HOST_USER = _mail.user
EMAIL_HOST_PASSWORD = _mail.password
EMAIL_USE_TLS = _mail.use_tls
EMAIL_USE_SSL = _mail.use_ssl
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 15)
if _mail.file_path:
    EMAIL_FILE_PATH = _mail.file_path
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Treffpunkt <no-reply@treffpunkt.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Outbox: how often a mail is tried and how long to wait between tries (doubling each time).
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 8)
MAIL_RETRY_BASE_SECONDS = env_int("MAIL_RETRY_BASE_SECONDS", 60)

# --- fixed IDs for room systems (P-OP-8) ------------------------------------------------------
# A customer's H.323 ID is the prefix followed by a number from the range; its SIP URI is
# sip:<H.323 ID>@<domain>. Numbers are handed out in order and never reused.
FIXED_ID_H323_PREFIX = env_str("FIXED_ID_H323_PREFIX", "49301234")
FIXED_ID_RANGE_START = env_int("FIXED_ID_RANGE_START", 1000)
FIXED_ID_RANGE_END = env_int("FIXED_ID_RANGE_END", 9999)
FIXED_ID_SIP_DOMAIN = env_str("FIXED_ID_SIP_DOMAIN", "sip.treffpunkt.invalid")

# --- contracts (P-OP-2 … P-OP-7) ----------------------------------------------------------------
# The operator as it appears on letters (order confirmations, cancellation confirmations,
# change notices). Lines separated by "|".
OPERATOR_LEGAL_NAME = env_str("OPERATOR_LEGAL_NAME", "Treffpunkt Betrieb GmbH")
OPERATOR_ADDRESS_LINES = env_str(
    "OPERATOR_ADDRESS_LINES", "Beispielweg 7|60311 Frankfurt am Main|Deutschland"
).split("|")
OPERATOR_PLACE = env_str("OPERATOR_PLACE", "Frankfurt am Main")
# Telephony (§ 20 (I) of the terms): the consent request goes out this many days before the
# day it must have reached the customer, and a reminder this many days after the request.
CONTRACTS_CONSENT_LEAD_DAYS = env_int("CONTRACTS_CONSENT_LEAD_DAYS", 14)
CONTRACTS_CONSENT_REMINDER_DAYS = env_int("CONTRACTS_CONSENT_REMINDER_DAYS", 7)
# The deadline dashboard shows what falls due within this many days (and everything overdue).
CONTRACTS_DASHBOARD_DAYS = env_int("CONTRACTS_DASHBOARD_DAYS", 42)

# --- billing (P-BILL-1) -------------------------------------------------------------------------
# The seller on invoices (§ 14 (4) UStG; EN 16931 BG-4, BG-6 and BG-16). The demo values are
# placeholders: an operator sets its own.
OPERATOR_POSTAL_CODE = env_str("OPERATOR_POSTAL_CODE", "60311")
OPERATOR_CITY = env_str("OPERATOR_CITY", "Frankfurt am Main")
OPERATOR_STREET = env_str("OPERATOR_STREET", "Beispielweg 7")
OPERATOR_VAT_ID = env_str("OPERATOR_VAT_ID", "DE136695976")
OPERATOR_TAX_NUMBER = env_str("OPERATOR_TAX_NUMBER", "045 123 45678")
OPERATOR_CONTACT_NAME = env_str("OPERATOR_CONTACT_NAME", "Buchhaltung")
OPERATOR_CONTACT_PHONE = env_str("OPERATOR_CONTACT_PHONE", "+49 69 1234560")
OPERATOR_CONTACT_EMAIL = env_str("OPERATOR_CONTACT_EMAIL", "rechnung@treffpunkt.invalid")
OPERATOR_IBAN = env_str("OPERATOR_IBAN", "DE89370400440532013000")
OPERATOR_BIC = env_str("OPERATOR_BIC", "COBADEFFXXX")
OPERATOR_BANK_NAME = env_str("OPERATOR_BANK_NAME", "Commerzbank")
# § 8 of the terms: due on the 14th day after receipt; the receipt of an invoice sent by mail
# (e-mail) is the day it was sent, of one sent by post this many days later.
INVOICE_DUE_DAYS = env_int("INVOICE_DUE_DAYS", 14)
INVOICE_RECEIPT_DAYS_EMAIL = env_int("INVOICE_RECEIPT_DAYS_EMAIL", 0)
# An invoice posted as a letter counts as received this many days after posting.
INVOICE_RECEIPT_DAYS_POST = env_int("INVOICE_RECEIPT_DAYS_POST", 3)
# The monthly billing run: on this day of the month (Berlin time), the month's fees in advance
# and the minutes of the month before.
BILLING_RUN_DAY = env_int("BILLING_RUN_DAY", 1)
# Processes that share a run out on PostgreSQL (rendering PDFs takes one core per process);
# SQLite always runs it in one.
BILLING_RUN_PROCESSES = env_int("BILLING_RUN_PROCESSES", os.cpu_count() or 1)

# --- fault tickets and availability (P-SLA-1, P-SLA-2) --------------------------------------------
# Reaction and fix times in service hours (Monday to Friday 9:00-18:00 Berlin, without nationwide
# holidays). A significant fault fixed within the fix time counts as available (§ 4 (II)).
SUPPORT_REACTION_HOURS = env_int("SUPPORT_REACTION_HOURS", 2)
SUPPORT_FIX_HOURS = env_int("SUPPORT_FIX_HOURS", 8)
# Where new fault reports by e-mail arrive: a Maildir whose new mails are turned into tickets
# every minute (none: reports by e-mail are not read).
SUPPORT_MAILDIR = env_str("SUPPORT_MAILDIR", "")
# The probe asks the pages over HTTP here (default: SITE_URL). Tokens of the machine endpoints:
# an outside monitor posts results with PROBE_TOKEN, Prometheus reads /metrics with
# METRICS_TOKEN; empty refuses every request.
PROBE_BASE_URL = env_str("PROBE_BASE_URL", SITE_URL)
PROBE_TOKEN = env_str("PROBE_TOKEN", "")
# A member account without a second factor that the probe signs in with every minute (the
# "sign-in works" check); without it the probe only checks that the sign-in form answers.
PROBE_LOGIN_EMAIL = env_str("PROBE_LOGIN_EMAIL", "")
PROBE_LOGIN_PASSWORD = env_str("PROBE_LOGIN_PASSWORD", "")
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- video calls ------------------------------------------------------------------------------
# The call page opens this long before the start and stays open this long after the end.
CALL_OPENS_MINUTES_BEFORE = env_int("CALL_OPENS_MINUTES_BEFORE", 10)
CALL_CLOSES_MINUTES_AFTER = env_int("CALL_CLOSES_MINUTES_AFTER", 30)
# Each browser makes a new random frame key this often (P-CALL-5).
CALL_KEY_ROTATION_SECONDS = env_int("CALL_KEY_ROTATION_SECONDS", 30)
if not 1 <= CALL_KEY_ROTATION_SECONDS <= 3600:
    raise ImproperlyConfigured("CALL_KEY_ROTATION_SECONDS must be between 1 and 3600")
# ICE servers. STUN finds the public address; TURN relays where no direct path exists. TURN
# credentials follow coturn's shared-secret scheme (use-auth-secret / static-auth-secret).
CALL_STUN_URLS = env_list("CALL_STUN_URLS", [])
CALL_TURN_URLS = env_list("CALL_TURN_URLS", [])
CALL_TURN_SECRET = env_str("CALL_TURN_SECRET", "")
# "all" lets browsers connect directly; "relay" forces every call through TURN.
CALL_ICE_TRANSPORT_POLICY = env_str("CALL_ICE_TRANSPORT_POLICY", "all")
if CALL_ICE_TRANSPORT_POLICY not in {"all", "relay"}:
    raise ImproperlyConfigured("CALL_ICE_TRANSPORT_POLICY must be 'all' or 'relay'")
if CALL_TURN_URLS and not CALL_TURN_SECRET:
    raise ImproperlyConfigured("CALL_TURN_URLS needs CALL_TURN_SECRET (coturn's auth secret)")
# Test hooks on the call page (read the encryption counters, plant a wrong key). For tests and
# benchmarks; refused in production mode.
CALL_TEST_HOOKS = env_bool("CALL_TEST_HOOKS", False)
# Benchmark only: a call without frame encryption, to measure what encryption costs. Refused in
# production mode.
CALL_BENCHMARK_PLAIN_MEDIA = env_bool("CALL_BENCHMARK_PLAIN_MEDIA", False)
if PRODUCTION and (CALL_TEST_HOOKS or CALL_BENCHMARK_PLAIN_MEDIA):
    raise ImproperlyConfigured(
        "CALL_TEST_HOOKS and CALL_BENCHMARK_PLAIN_MEDIA are for tests and benchmarks only"
    )

# --- messages ---------------------------------------------------------------------------------
# Attachments live here, outside static and media: no web server serves this directory, only
# the download view after checking who asks. Back it up with the database.
PRIVATE_FILES_DIR = Path(env_str("PRIVATE_FILES_DIR", str(VAR_DIR / "private")))
# One notification mail per conversation covers everything written within this window; it goes
# at the window's end, and not at all if the member read the messages meanwhile (P-MSG-2).
MESSAGE_NOTICE_WINDOW_MINUTES = env_int("MESSAGE_NOTICE_WINDOW_MINUTES", 15)
if not 1 <= MESSAGE_NOTICE_WINDOW_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("MESSAGE_NOTICE_WINDOW_MINUTES must be between 1 and 1440")
# Messages one person may send per minute (more is refused with a clear message).
MESSAGES_PER_MINUTE = env_int("MESSAGES_PER_MINUTE", 30)

# --- security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preload is on by default so that `check --deploy` is clean; switch it off with
    # SECURE_HSTS_PRELOAD=0 if some subdomain of yours cannot serve HTTPS.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind nginx the proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: only our own origin; no inline script anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        # The call page's encryption worker and the placeholder camera picture.
        "worker-src": ["'self'"],
    }
}

# --- logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
CSRF_FAILURE_VIEW = "treffpunkt.core.views.csrf_failure"
