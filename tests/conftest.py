"""Shared fixtures: a fresh PostgreSQL database and a clean Redis database per test.

The servers are real (127.0.0.1:5432 as user postgres with trust auth, 127.0.0.1:6379).
Outside CI a test that needs one skips when it is down; under ``CI=true`` it fails instead,
because a skipped integration test there would hide a broken build.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import (
    REDIS_URL,
    create_postgres_database,
    drop_postgres_database,
    unavailable,
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """URL of a Redis database that is empty at the start and flushed at the end."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as error:
        unavailable("Redis", error)
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
