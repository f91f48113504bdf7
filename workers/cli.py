"""``huiyan worker`` and ``huiyan dispatcher``: the processes that turn events into results."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import eventsourcing.persistence
import sqlalchemy.exc
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ledger.console import one_line_errors
from ledger.ledger import LedgerError
from ledger.settings import Settings, SettingsError
from workers.queues import STAGES

if TYPE_CHECKING:
    from workers.dispatcher import Dispatcher


class WorkerRefused(Exception):
    """This host or its configuration cannot do the work safely; the message says what to fix."""


class Unreachable(Exception):
    """Redis or the database did not answer (``dispatcher --once``)."""


# LedgerError: among others, a database whose schema is behind (run huiyan ledger migrate)
on_one_line = one_line_errors(SettingsError, WorkerRefused, Unreachable, LedgerError)
# What a service meets while Redis or the database is away for a moment (a restart, a
# fail-over): the dispatcher and the workers wait it out instead of exiting. Only the
# driver's "could not talk to it" errors; anything else is a bug and still ends the process.
OUTAGES = (
    RedisConnectionError,
    RedisTimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)
OUTAGE_PAUSE_SECONDS = 2.0


def _settings() -> Settings:
    return Settings.from_env()


def _as_service(settings: Settings) -> None:
    """System work is done as a named service identity, proved by its key file
    (HUIYAN_SERVICE_KEY, default keys/services/worker.key); without one nothing starts."""
    from domain.registration import Registration
    from ledger.application import open_application
    from ledger.blobs import BlobStore
    from ledger.vault import Vault
    from services.signin import SignInRefused, service_actor

    key_file = Path(
        os.environ.get("HUIYAN_SERVICE_KEY") or settings.keys_dir / "services" / "worker.key"
    )
    try:
        service_actor(
            open_application(Registration, settings),
            Vault(settings.keys_dir),
            BlobStore(settings.blobs_dir),
            key_file,
        )
    except SignInRefused as error:
        raise WorkerRefused(
            f"{error}; an organiser opens a service identity with "
            "`huiyan account create --role service --login worker`"
        ) from None


def metrics_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--metrics-port and --metrics-host, the same on the worker and the dispatcher."""
    command = click.option(
        "--metrics-host",
        default="127.0.0.1",
        show_default=True,
        help="Address of the metrics port; 0.0.0.0 in a container.",
    )(command)
    return click.option(
        "--metrics-port",
        type=click.IntRange(1, 65535),
        help="Serve Prometheus metrics on this port (docs/operations.md).",
    )(command)


def _serve_metrics(settings: Settings, host: str, port: int | None, *, jobs: bool) -> None:
    if port is None:
        return
    from workers.metrics import serve_metrics

    try:
        serve_metrics(settings, host, port, jobs=jobs)
    except OSError as error:
        raise WorkerRefused(f"--metrics-port {port} on {host}: {error.strerror}") from None


@click.command()
@click.option(
    "--queues",
    "queue_names",
    multiple=True,
    type=click.Choice(STAGES),
    default=STAGES,
    show_default=True,
    help="inference on GPU hosts, scoring on CPU hosts; repeat to serve both.",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@metrics_options
@on_one_line
def worker(
    queue_names: tuple[str, ...], burst: bool, metrics_port: int | None, metrics_host: str
) -> None:
    """Run jobs from the RQ queues (needs HUIYAN_REDIS_URL)."""
    from rq import Queue

    from workers.metrics import TimedWorker

    settings = _settings()
    if not settings.redis_url:
        raise WorkerRefused(
            "HUIYAN_REDIS_URL is not set; without Redis, jobs run in-process "
            "inside `huiyan dispatcher`"
        )
    from workers.jobs import isolation_problem

    if problem := isolation_problem(settings):
        raise WorkerRefused(
            f"this worker cannot isolate models ({problem}); it refuses all work. "
            "Fix the host, or in development only set HUIYAN_SANDBOX_UNISOLATED=allow"
        )
    _as_service(settings)
    _serve_metrics(settings, metrics_host, metrics_port, jobs=True)
    connection = Redis.from_url(settings.redis_url)
    queues = [Queue(name, connection=connection) for name in queue_names]
    while True:
        try:
            TimedWorker(queues, connection=connection).work(burst=burst, with_scheduler=True)
            return
        except (RedisConnectionError, RedisTimeoutError) as error:
            # RQ rides out a Redis outage while it waits for work, but quits when Redis goes
            # while it watches a running job. The job's work horse runs on and reports
            # through the ledger; this process starts a new worker once Redis answers.
            click.echo(f"worker: Redis went away during a job ({type(error).__name__}); "
                       "a new worker starts when it answers", err=True)  # fmt: skip
            _until_it_answers(connection)


def _until_it_answers(connection: Redis) -> None:
    while True:
        try:
            connection.ping()
            return
        except (RedisConnectionError, RedisTimeoutError):
            time.sleep(OUTAGE_PAUSE_SECONDS)


@click.command()
@click.option("--once", is_flag=True, help="One round, then exit.")
@click.option(
    "--interval", type=float, default=2.0, show_default=True, help="Seconds between rounds."
)
@metrics_options
@on_one_line
def dispatcher(once: bool, interval: float, metrics_port: int | None, metrics_host: str) -> None:
    """Follow the ledger, queue the work its events ask for, re-queue lost work."""
    from workers.pipeline import open_dispatcher

    settings = _settings()
    _as_service(settings)
    _serve_metrics(settings, metrics_host, metrics_port, jobs=False)
    the_dispatcher = open_dispatcher(settings)
    failed = 0  # rounds in a row that could not reach Redis or the database
    while True:
        try:
            processed, requeued = _dispatch_round(settings, the_dispatcher)
        except OUTAGES as error:
            # A round is idempotent (queueing before tracking, one claim per job id), so the
            # next one simply does it again; the reconciler re-queues what Redis lost.
            if once:
                raise Unreachable(f"{_which(error)} did not answer; try again") from None
            if not failed:
                click.echo(f"dispatcher: {_which(error)} did not answer "
                           f"({type(error).__name__}); trying again every {interval:g} s",
                           err=True)  # fmt: skip
            failed += 1
        else:
            if failed:
                click.echo(f"dispatcher: answered again after {failed} failed rounds", err=True)
                failed = 0
            if processed or requeued:
                click.echo(f"dispatched {processed} events, re-queued {requeued} jobs")
        if once:
            return
        time.sleep(interval)


def _which(error: BaseException) -> str:
    return "Redis" if isinstance(error, RedisError) else "the database"


def _dispatch_round(settings: Settings, the_dispatcher: Dispatcher) -> tuple[int, int]:
    """One round with a progress display on a terminal's stderr, gone when the round ends:
    the jobs it queued (or, without Redis, ran in this process)."""
    from ledger.console import progress_display
    from workers.pipeline import dispatch_once

    with progress_display() as bar:
        task = bar.add_task("dispatching", total=None)
        return dispatch_once(
            settings,
            the_dispatcher,
            on_job=lambda stage, ident: bar.update(
                task, advance=1, description=f"dispatching: {stage} {ident[:8]}"
            ),
        )
