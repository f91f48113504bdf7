"""Does this process reach what it works with? The answer behind container health checks:
``GET /healthz`` for the web, ``huiyan health`` for workers, the dispatcher and cron jobs.

A health check is asked every few seconds by an orchestrator that restarts what fails it, so
it answers quickly (short timeouts), names the part that failed (never its address, which
may hold a password) and decides nothing else: a process that cannot reach its database is
restarted or taken out of the load balancer; one that can is left to do its work.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from ledger.settings import Settings

TIMEOUT_SECONDS = 3


def database_answers(url: str) -> bool:
    """A fresh connection to the ledger's database runs ``SELECT 1``."""
    connect_args = {"connect_timeout": TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def redis_answers(url: str) -> bool:
    client = Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except (RedisError, OSError):  # refused, timed out, a wrong password
        return False
    finally:
        client.close()


def unreachable(settings: Settings, *, database: Callable[[], bool] | None = None) -> list[str]:
    """The parts that do not answer, by name: ``database``, ``redis`` (only when this
    deployment has one). ``database`` replaces the fresh connection with a check of the
    caller's own (the web asks its open ledger, so the check costs no new connection)."""
    failed = []
    if not (database or (lambda: database_answers(settings.database_url)))():
        failed.append("database")
    if settings.redis_url and not redis_answers(settings.redis_url):
        failed.append("redis")
    return failed
