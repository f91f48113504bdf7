"""Serving the web application under gunicorn (docs/web/serving.md).

One set of gunicorn settings, :func:`gunicorn_options`, serves both ways of starting it:
``huiyan serve`` (cli/serve.py, through gunicorn's programmatic :class:`Server`, so no shell
and no second command line to keep in step) and a deployment's own
``gunicorn -c deploy/gunicorn.conf.py 'web.serving:wsgi()'``.

Each worker process builds its own application (no ``preload_app``): the application opens
database engines, and a connection pool must never cross a ``fork``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger.settings import Settings
from web.context import Services, web_secret
from web.i18n import compile_catalogues
from web.metrics import clear_metrics_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# The access log: who, when, the method, the path WITHOUT its query string (%(U)s, where
# %(r)s would log the whole request line), status, size, milliseconds. A query string may
# carry an invitation token or a receipt; a referer may carry another page's; neither is
# logged.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def default_workers() -> int:
    """Processes: one per CPU and one more, so a worker waiting on the database or a slow
    client leaves every CPU busy; at most 8 (each opens its own applications and pools)."""
    return min((os.cpu_count() or 1) + 1, 8)


def gunicorn_options(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int | None = None,
    threads: int = 4,
) -> dict[str, Any]:
    """The gunicorn settings of every deployment. ``threads`` > 1 gives ``gthread`` workers:
    a long upload (up to HUIYAN_UPLOAD_MB) or a slow client ties up a thread, not a process,
    and the worker's heartbeat keeps going, so ``timeout`` does not kill an upload in
    progress. ``threads=1`` gives plain ``sync`` workers."""
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers or default_workers(),
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "timeout": 60,  # a worker silent this long is killed and replaced
        "graceful_timeout": 30,  # on restart, requests in flight get this long to finish
        "keepalive": 5,
        "max_requests": 2000,  # recycle workers now and then, so no slow leak accumulates
        "max_requests_jitter": 200,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        # Only a proxy on this host may say who the client is (X-Forwarded-*).
        "forwarded_allow_ips": "127.0.0.1,::1",
        "proc_name": "huiyan-web",
        # gunicorn 25.1+ opens a management socket in $HOME by default: not wanted here (a
        # second instance on the same account would collide with it). Older versions lack
        # the setting; Server skips settings its gunicorn does not know.
        "control_socket_disable": True,
    }


def application(settings: Settings | None = None, *, behind_proxy: bool = False) -> Flask:
    """The application one worker serves; behind a proxy, the client's address and scheme
    come from the proxy's X-Forwarded-For and -Proto (one hop), so the access log and the
    session's Secure flag see the real client."""
    from web import create_app

    app = create_app(settings)
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    return app


def wsgi() -> Flask:
    """For ``gunicorn 'web.serving:wsgi()'``: the settings from the environment; behind a
    proxy when HUIYAN_BEHIND_PROXY=1."""
    return application(behind_proxy=os.environ.get("HUIYAN_BEHIND_PROXY") == "1")


def prepare(settings: Settings) -> None:
    """What every worker would otherwise race to make at start-up, made once before they
    start: the ledger's tables (on a fresh instance two workers would both create them), the
    compiled catalogues, the secret that signs cookies, and an empty folder for the workers'
    request metrics (web/metrics.py). What was opened here is closed
    again, so no connection crosses the fork."""
    opened = Services.open(settings)
    for app in (opened.registration, opened.submissions, opened.judging, opened.access):
        app.close()
    compile_catalogues(settings.home / "cache" / "translations")
    web_secret(settings)
    clear_metrics_dir(settings)


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn started from Python: ``options`` as :func:`gunicorn_options` gives them, and
    ``load`` builds the application in each worker."""

    def __init__(self, load: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._load = load
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._load()


def serve(
    settings: Settings,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int | None = None,
    threads: int = 4,
    behind_proxy: bool = False,
) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM ends it gracefully)."""
    prepare(settings)
    options = gunicorn_options(host=host, port=port, workers=workers, threads=threads)
    Server(lambda: application(settings, behind_proxy=behind_proxy), options).run()
