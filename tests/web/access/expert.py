"""The expert part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import Route, only

ROUTES = [
    Route("expert.index", "GET", "/expert/", only("expert")),
]
