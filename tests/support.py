"""Helpers for tests that need a real server outside a pytest fixture (unittest-style cases)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "HUIYAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _redis_url() -> str:
    """A Redis database of this pytest-xdist worker's own (gw0: the given one, 9 by default;
    gw1: the next): every Redis test flushes its database, which must never be the one a test
    on the other worker is using at that moment."""
    given = os.environ.get("HUIYAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    server, _, database = given.rpartition("/")
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    return f"{server}/{int(database or 0) + worker}"


REDIS_URL = _redis_url()
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, error: Exception) -> None:
    """Skip outside CI; under CI=true fail, because a skipped integration test hides a break."""
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message + " (CI=true: integration tests may not skip)")
    pytest.skip(message)


def create_postgres_database() -> str:
    """Create a new, empty database and return its URL."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"huiyan_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        unavailable("PostgreSQL", error)
    finally:
        admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
