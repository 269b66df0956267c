import pytest
from pydantic import ValidationError

from platform_common.db import database_urls
from platform_common.settings import BaseServiceSettings, secret_problem

# 32 characters and no placeholder: as long as a key must be.
KEY = "a-key-of-the-settings-unit-tests"


class _Settings(BaseServiceSettings):
    service_name: str = "svc"
    port: int = 1


def test_local_runs_may_start_without_a_database_url_but_get_no_database_of_their_own():
    # The runner (`make dev`, the test fixtures) provides one; a service alone says so.
    settings = _Settings(environment="local")
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        database_urls(settings)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2"])
def test_postgres_urls_get_our_drivers(scheme):
    settings = _Settings(database_url=f"{scheme}://u:p%40ss@db:5432/app")
    async_url, sync_url = database_urls(settings)
    assert async_url == "postgresql+asyncpg://u:p%40ss@db:5432/app"
    assert sync_url == "postgresql+psycopg://u:p%40ss@db:5432/app"


def test_unsupported_backend_is_refused():
    with pytest.raises(ValueError, match="unsupported DATABASE_URL backend"):
        database_urls(_Settings(database_url="mysql://u@h/db"))


def test_settings_come_from_environment(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("PORT", "9999")
    settings = _Settings()
    assert settings.log_level == "DEBUG"
    assert settings.port == 9999


def test_unknown_log_level_fails_fast():
    with pytest.raises(ValidationError, match="log_level"):
        _Settings(log_level="LOUD")


def test_outside_local_runs_a_database_url_and_internal_tokens_are_required(monkeypatch):
    monkeypatch.delenv("INTERNAL_TOKENS", raising=False)
    for environment in ("dev", "prod"):
        with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
            _Settings(environment=environment)
        with pytest.raises(ValidationError, match="INTERNAL_TOKENS"):
            _Settings(environment=environment, database_url="postgresql://db/app")
    settings = _Settings(environment="prod", database_url="postgresql://db/app", internal_tokens=KEY)
    assert settings.environment == "prod"


def test_database_url_is_never_printed():
    settings = _Settings(database_url="postgresql://u:topsecret@db/app")
    assert "topsecret" not in repr(settings)


WEAK = {
    "change-me": "is still a placeholder",
    "CHANGE-ME": "is still a placeholder",
    "Change_Me_" + KEY: "is still a placeholder",  # any spelling, however long
    "a": "is shorter than 32 characters",
    KEY[:31]: "is shorter than 32 characters",
    "a" * 40: "is too weak: fewer than 6 different characters",
    "abcde" * 8: "is too weak: fewer than 6 different characters",
}


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize(("tokens", "problem"), [*WEAK.items(), (f"{KEY},a", "is shorter than 32 characters")])
def test_weak_internal_tokens_stop_a_deployment_naming_the_variable_not_the_value(environment, tokens, problem):
    with pytest.raises(ValidationError, match=f"INTERNAL_TOKENS {problem}") as refused:
        _Settings(environment=environment, database_url="postgresql://u:dbpass@db/app", internal_tokens=tokens)
    # The start-up error names the variable; no value given reaches the log.
    assert "input_value" not in str(refused.value) and "dbpass" not in str(refused.value)
    assert KEY not in str(refused.value)


@pytest.mark.parametrize("environment", ["local", "test"])
def test_local_and_test_runs_take_any_secret(environment):
    assert _Settings(environment=environment, internal_tokens="a").internal_tokens is not None


def test_strong_secrets_pass_and_rotation_takes_two():
    second = "the-previous-key-while-it-rotates"
    assert _Settings(environment="prod", database_url="postgresql://db/app", internal_tokens=f"{KEY}, {second}")
    assert secret_problem("correct horse battery", min_length=12) is None
    assert secret_problem("aaaaaaaaaaaa", min_length=12) == "is too weak: fewer than 6 different characters"
