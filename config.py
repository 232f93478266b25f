"""Typed configuration, read once from the environment.

Code never reads ``os.environ`` on its own: everything the app needs is a field
of :class:`Settings`, built by :func:`load_settings` when the app starts.  That
gives one place to see every knob, and lets tests build a fresh configuration
per test without touching the process environment.

Secrets (the Flask secret key, the encryption keys for personal data, the key
of the keyed-hash lookup columns, Twilio credentials) have no default outside
``development`` and ``testing``: a production process that lacks one refuses
to start and says which variable is missing.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """Raised when the environment cannot give a safe configuration."""


@dataclass(frozen=True)
class Settings:
    env: str
    secret_key: str
    database_url: str
    # Fernet keys, newest first; the first encrypts, all decrypt (MultiFernet).
    encryption_keys: tuple[str, ...]
    # Key of the keyed-hash (HMAC-SHA256) lookup columns and the audit chain.
    hash_key: str
    public_base_url: str = "http://127.0.0.1:5000"
    idle_timeout_seconds: int = 15 * 60
    idle_warning_seconds: int = 2 * 60
    # However active, a session ends this long after sign-in (one working day).
    session_max_seconds: int = 12 * 3600
    lockout_threshold: int = 5
    #: Referral requests one advocate may send in an hour, across the network (flooding limit).
    referrals_per_advocate_hour: int = 6
    lockout_seconds: int = 15 * 60
    max_content_length: int = 1024 * 1024
    default_language: str = "en"
    default_timezone: str = "America/Chicago"
    # Number of reverse proxies in front of the app whose X-Forwarded-* to trust.
    proxy_hops: int = 0
    sms_backend: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    log_level: str = "INFO"
    # argon2-cffi profile name; only the test suite uses the cheap one.
    argon2_profile: str = "RFC_9106_LOW_MEMORY"
    # Extra Flask settings that only tests set (for example SERVER_NAME).
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure and ``__Host-`` prefixed whenever served over HTTPS.

        Production is always behind HTTPS; development on http://127.0.0.1
        cannot use Secure cookies or the browser would drop them.
        """
        return self.is_production or self.public_base_url.startswith("https://")

    def flask_config(self) -> dict[str, object]:
        secure = self.secure_cookies
        return {
            "ENV_NAME": self.env,
            "TESTING": self.env == "testing",
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(self.database_url),
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "SESSION_COOKIE_NAME": "__Host-session" if secure else "session",
            "SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "SESSION_COOKIE_PATH": "/",
            # Flask-Login's remember-me cookie is never used: a shared front-desk
            # computer must not keep anyone signed in.
            "REMEMBER_COOKIE_DURATION": 0,
            "WTF_CSRF_TIME_LIMIT": None,  # bounded by the idle timeout instead
            # Flask-WTF's "strict" mode wants a same-origin Referer on HTTPS, but our
            # Referrer-Policy is no-referrer, so browsers send none and every form
            # would fail.  The per-session token and SameSite=Strict cookies remain.
            "WTF_CSRF_SSL_STRICT": False,
            "BABEL_DEFAULT_LOCALE": self.default_language,
            "BABEL_DEFAULT_TIMEZONE": self.default_timezone,
            "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
            "SETTINGS": self,
            **self.extra,
        }


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True}


def _dev_secrets(path: Path) -> dict[str, str]:
    """Development secrets live in a git-ignored file so data survives restarts.

    They are generated on first start, never committed, and never used outside
    development: a newcomer gets a working app without inventing keys.
    """
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ADVOCACY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ADVOCACY_HASH_KEY": secrets.token_urlsafe(48),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def load_settings(env: Mapping[str, str] | None = None, /, **overrides: object) -> Settings:
    """Build :class:`Settings` from an environment mapping (``os.environ`` by default).

    ``overrides`` replace fields of the result (``env="production"`` included,
    hence the positional-only mapping)."""
    env = dict(os.environ if env is None else env)
    # Production unless told otherwise: a server started without ADVOCACY_ENV
    # refuses to run without its secrets instead of quietly using development
    # keys.  `make run` and `make code` set development themselves.
    name = env.get("ADVOCACY_ENV", "production")
    if name not in ENVIRONMENTS:
        raise ConfigError(f"ADVOCACY_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")

    if name == "development":
        for key, value in _dev_secrets(INSTANCE_DIR / "dev-secrets.json").items():
            env.setdefault(key, value)
    elif name == "testing":
        env.setdefault("SECRET_KEY", "testing-secret-key-not-for-use-anywhere-else")
        env.setdefault("ADVOCACY_ENCRYPTION_KEYS", Fernet.generate_key().decode())
        env.setdefault("ADVOCACY_HASH_KEY", "testing-hash-key-not-for-use-anywhere-else")

    missing = [
        key
        for key in ("SECRET_KEY", "ADVOCACY_ENCRYPTION_KEYS", "ADVOCACY_HASH_KEY", "DATABASE_URL")
        if not env.get(key) and not (key == "DATABASE_URL" and name != "production")
    ]
    if missing:
        raise ConfigError(
            "advocacy refuses to start in production without these environment variables: "
            + ", ".join(missing)
            + ". See README.md, 'Configuration for production'."
        )

    keys = tuple(k.strip() for k in env["ADVOCACY_ENCRYPTION_KEYS"].split(",") if k.strip())
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "ADVOCACY_ENCRYPTION_KEYS must be comma-separated Fernet keys "
                "(generate one with `flask keys generate`)"
            ) from exc
    if len(env["SECRET_KEY"]) < 32 or len(env["ADVOCACY_HASH_KEY"]) < 32:
        raise ConfigError("SECRET_KEY and ADVOCACY_HASH_KEY must be at least 32 characters long")

    sms_backend = env.get("ADVOCACY_SMS_BACKEND", "console")
    if sms_backend not in ("console", "twilio"):
        raise ConfigError("ADVOCACY_SMS_BACKEND must be 'console' or 'twilio'")
    if sms_backend == "twilio":
        absent = [
            k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER") if not env.get(k)
        ]
        if absent:
            raise ConfigError("The twilio SMS backend needs " + ", ".join(absent))

    public_base_url = env.get("ADVOCACY_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    if name == "production" and not public_base_url.startswith("https://"):
        raise ConfigError("ADVOCACY_PUBLIC_BASE_URL must be an https:// address in production")

    settings = Settings(
        env=name,
        secret_key=env["SECRET_KEY"],
        database_url=env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'advocacy.sqlite3'}",
        encryption_keys=keys,
        hash_key=env["ADVOCACY_HASH_KEY"],
        public_base_url=public_base_url,
        idle_timeout_seconds=_int(env, "ADVOCACY_IDLE_TIMEOUT_SECONDS", 15 * 60),
        session_max_seconds=_int(env, "ADVOCACY_SESSION_MAX_SECONDS", 12 * 3600),
        lockout_threshold=_int(env, "ADVOCACY_LOCKOUT_THRESHOLD", 5),
        referrals_per_advocate_hour=_int(env, "ADVOCACY_REFERRALS_PER_ADVOCATE_HOUR", 6),
        lockout_seconds=_int(env, "ADVOCACY_LOCKOUT_SECONDS", 15 * 60),
        proxy_hops=_int(env, "ADVOCACY_PROXY_HOPS", 0),
        default_timezone=env.get("ADVOCACY_TIMEZONE", "America/Chicago"),
        sms_backend=sms_backend,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
        log_level=env.get("ADVOCACY_LOG_LEVEL", "INFO"),
        argon2_profile="CHEAPEST" if name == "testing" else "RFC_9106_LOW_MEMORY",
    )
    return replace(settings, **overrides) if overrides else settings
