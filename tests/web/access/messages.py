"""The messages part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import SIGNED_IN, Route

ROUTES = [
    Route("messages.inbox", "GET", "/messages/", SIGNED_IN),
    Route("messages.message", "GET", "/messages/{id}", SIGNED_IN),
]
