import pytest
from pydantic import ValidationError

from platform_common.db import database_urls
from platform_common.settings import BaseServiceSettings


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
    settings = _Settings(environment="prod", database_url="postgresql://db/app", internal_tokens="t")
    assert settings.environment == "prod"


def test_database_url_is_never_printed():
    settings = _Settings(database_url="postgresql://u:topsecret@db/app")
    assert "topsecret" not in repr(settings)
