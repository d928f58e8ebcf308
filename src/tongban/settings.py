"""Tongban settings: everything that differs between machines comes from the environment.

The embedded default is SQLite (WAL) with local files; production sets DATABASE_URL to PostgreSQL,
TONGBAN_PROFILE=production and a real SECRET_KEY (see docs/deploy.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("TONGBAN_VAR_DIR", PROJECT_DIR / "var"))

PROFILE = os.environ.get("TONGBAN_PROFILE", "development")
PRODUCTION = PROFILE == "production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("TONGBAN_DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set in production (TONGBAN_PROFILE=production)")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

# Demo content and routes (the home page's demo accounts, /rp-demo/, `tongban demo load`): on by default
# in development, off in production unless TONGBAN_DEMO=1 says this production-like site is a demo.
TONGBAN_DEMO = _env_bool("TONGBAN_DEMO", not PRODUCTION)
# The region the portal offers when neither the request nor the applicant names one (a node's own
# region in production; the demo's 长沙市 in development).
TONGBAN_DEFAULT_REGION = os.environ.get("TONGBAN_DEFAULT_REGION", "" if PRODUCTION else "430100").strip()

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    # Without autodiscovery at start-up: tongban/urls.py imports the admin modules, so a CLI command
    # that serves no page does not import every admin form and view.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the Swagger UI assets it ships (static files) instead of loading them from a CDN
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "oauth2_provider",
    "tongban.core",
    "tongban.regions",
    "tongban.accounts",
    "tongban.workdays",
    "tongban.audit",
    "tongban.catalog",
    "tongban.bundles",
    "tongban.cases",
    "tongban.licences",
    "tongban.exchange",
    "tongban.federation",
    "tongban.portal",
    "tongban.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tongban.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tongban.core.middleware.HostileInputMiddleware",  # NUL, lone surrogates, broken multipart: 400 before any view
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.portal.middleware.PreferredLanguageMiddleware",  # zh-hans unless the user picked a language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tongban.accounts.middleware.IdentityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tongban.core.middleware.RequestLogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.portal.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite (WAL, see tongban.core.apps) by default; DATABASE_URL selects PostgreSQL.
_default_sqlite = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_tongban.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Authentication (docs/identity.md): django-axes first so every authenticate() call is throttled.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tongban.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

# Internationalisation: Simplified Chinese first, English second. Times stored in UTC, shown in Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("TONGBAN_MEDIA_ROOT", VAR_DIR / "media"))
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

# Background work: Django's Tasks API with the database backend (no broker; workers on many hosts
# share the queue through the database).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TONGBAN_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# `tongban background` (tongban.core.worker): a worker holds a lease on the task it runs, renewed by a
# heartbeat every quarter of it; an expired lease (dead or frozen worker) returns the task to the queue,
# at most TONGBAN_TASK_MAX_ATTEMPTS claims in all.
TONGBAN_TASK_LEASE_SECONDS = float(os.environ.get("TONGBAN_TASK_LEASE_SECONDS", "60"))
TONGBAN_TASK_MAX_ATTEMPTS = int(os.environ.get("TONGBAN_TASK_MAX_ATTEMPTS", "5"))
# Audit anchors (decision 0012): the periodic job signs a Merkle root over all audit partition heads this often.
TONGBAN_AUDIT_ANCHOR_SECONDS = int(os.environ.get("TONGBAN_AUDIT_ANCHOR_SECONDS", "60"))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Absolute cap on a session; the idle limits below (renewed on activity) end it sooner.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
TONGBAN_SESSION_IDLE_STAFF = int(os.environ.get("TONGBAN_SESSION_IDLE_STAFF", str(30 * 60)))
TONGBAN_SESSION_IDLE_APPLICANT = int(os.environ.get("TONGBAN_SESSION_IDLE_APPLICANT", str(2 * 3600)))
# Staff sign in with a TOTP second factor (django-otp). Only a non-production profile may skip it
# (demo and development); in production it is mandatory whatever the environment says.
TONGBAN_DEMO_SKIP_OTP = False if PRODUCTION else _env_bool("TONGBAN_DEMO_SKIP_OTP", True)
OTP_TOTP_ISSUER = "Tongban 通办"
# Login throttling (django-axes): the 5th failure for a username from one address locks it out.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tongban.accounts.views.locked_out"
AXES_ENABLED = _env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
# The platform as OpenID Connect provider and OAuth2 authorisation server (django-oauth-toolkit).
from tongban.accounts.keys import load_or_create_oidc_key  # noqa: E402

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": load_or_create_oidc_key(VAR_DIR, os.environ.get("TONGBAN_OIDC_KEY"),
                                                    production=PRODUCTION),
    "OIDC_ISS_ENDPOINT": os.environ.get("TONGBAN_OIDC_ISSUER", ""),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("TONGBAN_ACCESS_TOKEN_SECONDS", "3600")),
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    "SCOPES": {
        "openid": "OpenID Connect 登录 / sign-in",
        "profile": "姓名、区划与办理身份 / name, region and acting-as party",
        "cases:read": "查询办件 / read cases",
        "exchange:query": "共享数据查询 / query shared data",
    },
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "tongban.accounts.oidc.TongbanValidator",
    "SCOPES_BACKEND_CLASS": "tongban.accounts.oidc.ClientScopes",
}
# Client-secret guessing at /o/token/ and /o/introspect/: failed client authentications per client id
# and per caller address within a window; past the limit 429 with Retry-After (tongban.accounts.oauth_views).
TONGBAN_TOKEN_THROTTLE = {
    "client": int(os.environ.get("TONGBAN_TOKEN_FAILURES_PER_CLIENT", "10")),
    "address": int(os.environ.get("TONGBAN_TOKEN_FAILURES_PER_ADDRESS", "30")),
    "window_seconds": int(os.environ.get("TONGBAN_TOKEN_THROTTLE_WINDOW_SECONDS", "900")),
}
# Behind a proxy, the META key of the header carrying the caller's address (e.g. HTTP_X_REAL_IP).
TONGBAN_CLIENT_IP_HEADER = os.environ.get("TONGBAN_CLIENT_IP_HEADER", "")
# The toolkit's own models, named so that migrations referring to them resolve.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"

# Content-Security-Policy on every response (tongban.core.csp): scripts and styles only from this site,
# no inline script, no eval (htmx runs with allowEval off). TONGBAN_CSP_REPORT_ONLY=1 sends it as
# Content-Security-Policy-Report-Only instead (to try a change of policy on a live site).
TONGBAN_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}
TONGBAN_CSP_REPORT_ONLY = _env_bool("TONGBAN_CSP_REPORT_ONLY", False)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Structured logs: one JSON object a line on stderr, ready for any collector.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tongban.core.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        "pypdf": {"level": "ERROR"},  # uploads are checked with pypdf; a broken file is refused, not logged
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# Files handed in by applicants: the one size limit (MB) for every upload (API, portal, window scans).
TONGBAN_MAX_UPLOAD_MB = int(os.environ.get("TONGBAN_MAX_UPLOAD_MB", "20"))
# PDFs with JavaScript, launch actions or embedded files are refused unless this is set (docs/cases.md).
TONGBAN_PDF_ALLOW_ACTIVE_CONTENT = _env_bool("TONGBAN_PDF_ALLOW_ACTIVE_CONTENT", False)
