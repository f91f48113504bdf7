"""The arbitrator part of the authorisation matrix (tests/web/access/__init__.py)."""

from __future__ import annotations

from tests.web.access import Route, only

ARBITRATOR = only("arbitrator")

ROUTES = [
    Route("arbitrator.index", "GET", "/arbitrator/", ARBITRATOR),
    Route("arbitrator.appeal", "GET", "/arbitrator/appeals/{id}", ARBITRATOR),
    Route("arbitrator.rule", "POST", "/arbitrator/appeals/{id}/ruling", ARBITRATOR),
    Route("arbitrator.rescore", "POST", "/arbitrator/appeals/{id}/rescore", ARBITRATOR),
    Route("arbitrator.timeline", "GET", "/arbitrator/appeals/{id}/timeline", ARBITRATOR),
    Route("arbitrator.state", "GET", "/arbitrator/appeals/{id}/state", ARBITRATOR),
]
