"""Configuration: production refuses to start without its secrets, and says which.

Settings are built from a mapping given to :func:`config.load_settings`, never
from the process environment, so these tests touch no global state.
"""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from advocacy import create_app
from config import ConfigError, Settings, load_settings
from tests.conftest import make_settings

SECRET_KEY = "s" * 48
HASH_KEY = "h" * 48


def production_env(**changes: str | None) -> dict[str, str]:
    env = {
        "ADVOCACY_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "ADVOCACY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ADVOCACY_HASH_KEY": HASH_KEY,
        "DATABASE_URL": "postgresql+psycopg://advocacy@db.internal/advocacy",
        "ADVOCACY_PUBLIC_BASE_URL": "https://advocacy.example",
    }
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_a_complete_production_environment_loads() -> None:
    settings = load_settings(production_env())
    assert settings.is_production
    assert settings.secure_cookies
    assert settings.secret_key == SECRET_KEY
    assert settings.database_url.startswith("postgresql")
    assert settings.argon2_profile == "RFC_9106_LOW_MEMORY"
    config = settings.flask_config()
    assert config["TESTING"] is False
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "ADVOCACY_ENCRYPTION_KEYS", "ADVOCACY_HASH_KEY", "DATABASE_URL"]
)
def test_production_without_a_secret_refuses_and_names_it(name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(production_env(**{name: None}))
    message = str(refused.value)
    assert name in message
    assert "production" in message
    # Only the missing one is listed.
    assert message.split("variables: ", 1)[1].split(".", 1)[0] == name


@pytest.mark.parametrize("name", ["SECRET_KEY", "ADVOCACY_ENCRYPTION_KEYS", "ADVOCACY_HASH_KEY"])
def test_an_empty_secret_counts_as_missing(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(production_env(**{name: ""}))


def test_production_names_every_missing_variable_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"ADVOCACY_ENV": "production"})
    for name in ("SECRET_KEY", "ADVOCACY_ENCRYPTION_KEYS", "ADVOCACY_HASH_KEY", "DATABASE_URL"):
        assert name in str(refused.value)


@pytest.mark.parametrize("url", ["http://advocacy.example", "advocacy.example", "ftp://advocacy.example"])
def test_production_refuses_a_public_url_that_is_not_https(url: str) -> None:
    with pytest.raises(ConfigError, match="ADVOCACY_PUBLIC_BASE_URL"):
        load_settings(production_env(ADVOCACY_PUBLIC_BASE_URL=url))


@pytest.mark.parametrize(
    "keys",
    [
        "not-a-fernet-key-but-secret-9f8e7d",
        Fernet.generate_key().decode() + ",not-a-fernet-key-but-secret-9f8e7d",
        Fernet.generate_key().decode()[:-4],
    ],
    ids=["not-a-key", "good-then-bad", "truncated"],  # fixed ids: every xdist worker collects the same tests
)
def test_a_bad_fernet_key_is_refused_without_echoing_it(keys: str) -> None:
    with pytest.raises(ConfigError, match="ADVOCACY_ENCRYPTION_KEYS") as refused:
        load_settings(production_env(ADVOCACY_ENCRYPTION_KEYS=keys))
    for key in keys.split(","):
        assert key not in str(refused.value)


def test_several_fernet_keys_are_kept_newest_first() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = load_settings(production_env(ADVOCACY_ENCRYPTION_KEYS=f" {new} , {old} ,"))
    assert settings.encryption_keys == (new, old)


@pytest.mark.parametrize("name", ["SECRET_KEY", "ADVOCACY_HASH_KEY"])
def test_a_short_secret_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings(production_env(**{name: "short-secret"}))


def test_an_unknown_environment_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="ADVOCACY_ENV"):
        load_settings({"ADVOCACY_ENV": "prod"})


def test_a_non_number_where_a_number_belongs_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="ADVOCACY_IDLE_TIMEOUT_SECONDS"):
        load_settings(production_env(ADVOCACY_IDLE_TIMEOUT_SECONDS="fifteen minutes"))


def test_numbers_are_read_from_the_environment() -> None:
    settings = load_settings(
        production_env(ADVOCACY_IDLE_TIMEOUT_SECONDS="600", ADVOCACY_LOCKOUT_THRESHOLD="3")
    )
    assert (settings.idle_timeout_seconds, settings.lockout_threshold) == (600, 3)


def test_the_twilio_backend_needs_its_credentials() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(production_env(ADVOCACY_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC123"))
    assert "TWILIO_AUTH_TOKEN" in str(refused.value)
    assert "TWILIO_FROM_NUMBER" in str(refused.value)
    assert "TWILIO_ACCOUNT_SID" not in str(refused.value)


def test_an_unknown_sms_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="ADVOCACY_SMS_BACKEND"):
        load_settings(production_env(ADVOCACY_SMS_BACKEND="carrier-pigeon"))


def test_testing_gets_throwaway_secrets_without_any_variable() -> None:
    settings = load_settings({"ADVOCACY_ENV": "testing"})
    assert len(settings.secret_key) >= 32
    Fernet(settings.encryption_keys[0])
    assert not settings.is_production
    assert settings.argon2_profile == "CHEAPEST"


def test_settings_cannot_be_changed_once_loaded() -> None:
    settings = load_settings(production_env())
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.secret_key = "x" * 48  # type: ignore[misc]


def test_overrides_may_set_any_field_including_env(database_url: str) -> None:
    settings = make_settings(database_url, env="production", public_base_url="https://advocacy.example")
    assert isinstance(settings, Settings)
    assert settings.is_production
    with pytest.raises(TypeError):
        load_settings({"ADVOCACY_ENV": "testing"}, no_such_field=1)


def test_the_app_carries_its_settings(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    assert app.config["SECRET_KEY"] == settings.secret_key
    assert app.config["MAX_CONTENT_LENGTH"] == settings.max_content_length
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_demo_commands_do_not_exist_in_production(database_url: str) -> None:
    prod = create_app(
        make_settings(database_url, env="production", public_base_url="https://advocacy.example")
    )
    for command in (["demo", "load"], ["demo", "totp", "someone"], ["demo", "password", "someone"]):
        result = prod.test_cli_runner().invoke(args=command)
        assert result.exit_code != 0, command
        assert "No such command" in result.output, command


def test_an_unset_environment_means_production_and_refuses_without_secrets() -> None:
    """Forgetting ADVOCACY_ENV on a server must fail closed, not run on development keys."""
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({})
