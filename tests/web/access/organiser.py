"""The organiser part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import Route, only

ROUTES = [
    Route("organiser.index", "GET", "/organiser/", only("organiser")),
]
