"""Prometheus's route (web/metrics.py): admitted to anyone, because a bearer token, not a
sign-in, admits a scraper; without the token it answers 404 (tests/web/test_metrics.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route

ROUTES = [
    Route("metrics.metrics", "GET", "/metrics", PUBLIC),
]
