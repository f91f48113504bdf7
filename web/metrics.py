"""``GET /metrics`` for Prometheus, and the web's own request metrics (docs/operations.md,
"Monitoring").

Deny by default: the route answers only when ``HUIYAN_METRICS_TOKEN`` is set and the request
carries ``Authorization: Bearer <that token>`` (compared in constant time); to anyone else it
is the same 404 as a page that does not exist. It is admitted as PUBLIC in the access table
because the token, not a person's sign-in, is what admits a scraper.

Requests are counted per route (``blueprint.endpoint``, never the raw path: the label has as
many values as the application has routes) with their method and status, and timed. Under
gunicorn each worker is a process: with ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client
keeps every worker's counts in files there and whichever worker answers a scrape adds them all
up; without it, a scrape sees only the worker that answered.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ledger.settings import Settings
from services.metrics import StateCollector
from web.access import PUBLIC, admits
from web.context import services

blueprint = Blueprint("metrics", __name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUESTS = Counter(
    "huiyan_http_requests",
    "Requests the web answered, by route, method and status",
    ["endpoint", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "huiyan_http_request_seconds",
    "Seconds the web took to answer, by route",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)
REGISTRY_KEY = "huiyan_metrics_registry"


def init(app: Flask, settings: Settings) -> None:
    """Time every request (registered before every other hook, so that a request another hook
    answers early is timed too) and make the registry a scrape reads."""
    app.before_request(_started)
    app.after_request(_finished)
    registry = CollectorRegistry()
    registry.register(StateCollector(settings, app.extensions["huiyan"].ledger.engine))
    if settings.metrics_dir is not None:
        MultiProcessCollector(registry, path=str(settings.metrics_dir))
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    app.extensions[REGISTRY_KEY] = registry


def clear_metrics_dir(settings: Settings) -> None:
    """Empty the multiprocess folder before the workers start: files of a previous run's
    processes would otherwise be added to this run's counts."""
    if settings.metrics_dir is not None:
        for stale in settings.metrics_dir.glob("*.db"):
            stale.unlink(missing_ok=True)


@blueprint.route("/metrics")
@admits(PUBLIC)
def metrics() -> Any:
    if not _bearer_of(services().settings.metrics_token):
        abort(404)
    body = generate_latest(current_app.extensions[REGISTRY_KEY])
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _bearer_of(token: str | None) -> bool:
    """The request carries ``Authorization: Bearer <token>``. Both sides are hashed first, so
    the comparison takes the same time whatever the length of a guess."""
    if token is None:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    digest = hashlib.sha256(given.strip().encode()).digest()
    return scheme.lower() == "bearer" and hmac.compare_digest(
        digest, hashlib.sha256(token.encode()).digest()
    )


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _finished(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response
