"""Fixtures every service's tests share: one real database per test run,
migrated once, emptied before each test that asks for it."""

import os
from collections.abc import Iterator

import pytest

from platform_common.migrations import MigrationSettings, upgrade
from platform_common.testing import provisioned_database, reset_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A plain URL: postgresql://… when TEST_DATABASE_URL is set, sqlite:///… otherwise."""
    with provisioned_database() as url:
        upgrade(MigrationSettings(database_url=url))
        yield url


@pytest.fixture
def clean_database(database_url: str) -> str:
    reset_database(database_url)
    return database_url


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)
