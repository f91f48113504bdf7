"""``huiyan serve``: the web application under gunicorn (web/serving.py, docs/web/serving.md).

Flask's own development server only with ``--debug``, on loopback, never in production: its
debugger runs any Python a visitor types.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import click

from ledger.ledger import LedgerError
from ledger.settings import Settings, SettingsError
from web.serving import DEFAULT_HOST, DEFAULT_PORT, application, default_workers, serve


def serving_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that serves (``huiyan serve``, ``huiyan demo``)."""
    options = (
        click.option("--host", default=DEFAULT_HOST, show_default=True,
                     help="Address to listen on; the default is loopback only."),
        click.option("--port", default=DEFAULT_PORT, show_default=True,
                     type=click.IntRange(1, 65535)),
        click.option("--workers", type=click.IntRange(1, 64), default=None,
                     help=f"Worker processes [default: CPUs + 1, at most 8: {default_workers()}]."),
        click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
                     help="Threads per worker (gthread); 1 gives sync workers."),
        click.option("--behind-proxy", is_flag=True,
                     help="Trust one proxy's X-Forwarded-For and -Proto (TLS ends there)."),
        click.option("--debug", is_flag=True,
                     help="Flask's development server with its debugger (loopback only)."),
    )  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def start(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    behind_proxy: bool,
    debug: bool,
) -> None:
    """Serve ``settings``' instance until stopped."""
    if debug:
        if settings.is_production:
            raise click.ClickException("--debug is refused with HUIYAN_ENV=production")
        if not _is_loopback(host):
            raise click.ClickException("--debug serves on loopback only (its debugger runs code)")
        app = application(settings, behind_proxy=behind_proxy)
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    if settings.metrics_token and not settings.metrics_dir and (workers or default_workers()) > 1:
        click.echo(
            "warning: PROMETHEUS_MULTIPROC_DIR is not set: /metrics counts only the requests "
            "of the worker that answers it (docs/operations.md)",
            err=True,
        )
    serve(
        settings,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        behind_proxy=behind_proxy,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@serving_options
def serve_command(**options: Any) -> None:
    """Serve the web application (gunicorn) on HUIYAN_HOME's ledger until stopped."""
    try:
        settings = Settings.from_env()
        start(settings, **options)
    except (SettingsError, LedgerError) as error:  # e.g. a schema behind: run the migration
        raise click.ClickException(str(error)) from None
