"""The health check's part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route

ROUTES = [Route("health.healthz", "GET", "/healthz", PUBLIC)]
