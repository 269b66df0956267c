"""Fixtures every service's tests share: one PostgreSQL server per test run
(TEST_DATABASE_URL's, or an embedded one under data/test-pg), one database
of its own on it, migrated once, emptied before each test that asks for it."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_testing import INTERNAL_TOKEN, migrated, provisioned_database, reset_database
from platform_testing import database_server as start_database_server

ROOT = Path(__file__).resolve().parent
# The local run's tools (scripts/observe.py, scripts/frontdoor.py) are what the
# tests start Prometheus and nginx with: importable as they are for scripts/dev.py.
sys.path.insert(0, str(ROOT / "scripts"))
# Every app and service process of the run shares the platform's internal credential.
os.environ.setdefault("INTERNAL_TOKENS", INTERNAL_TOKEN)


@pytest.fixture(scope="session")
def database_server() -> Iterator[str]:
    """A plain postgresql:// URL of the server's `postgres` database."""
    with start_database_server(ROOT / "data" / "test-pg") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(database_server: str) -> Iterator[str]:
    """A plain postgresql:// URL of this run's own, migrated database, as the
    schema's owner (the services connect as their own roles: `as_service`)."""
    with provisioned_database(database_server) as url:
        yield migrated(url)


@pytest.fixture
def clean_database(database_url: str) -> str:
    reset_database(database_url)
    return database_url
