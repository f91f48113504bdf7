"""The public part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import PUBLIC, Route

ROUTES = [
    Route("public.index", "GET", "/", PUBLIC),
    Route("public.language", "POST", "/language", PUBLIC),
    Route("public.leaderboard", "GET", "/leaderboard", PUBLIC),
    Route("public.checkpoint", "GET", "/ledger", PUBLIC),
    Route("public.check_receipt", "POST", "/ledger/receipt", PUBLIC),
]
