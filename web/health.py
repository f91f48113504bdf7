"""``GET /healthz``: what a load balancer or container health check asks (docs/deploy/compose.md).

Public, because the orchestrator asks without signing in; it says only which part failed,
never an address or an error text.
"""

from __future__ import annotations

from eventsourcing.persistence import PersistenceError
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from services.health import unreachable
from web.access import PUBLIC, admits
from web.context import ledger_head, services

blueprint = Blueprint("health", __name__)


def _ledger_answers() -> bool:
    try:
        ledger_head()
        return True
    except (PersistenceError, SQLAlchemyError):
        return False


@blueprint.get("/healthz")
@admits(PUBLIC)
def healthz() -> ResponseReturnValue:
    failed = unreachable(services().settings, database=_ledger_answers)
    if failed:
        return jsonify(status="unavailable", unreachable=failed), 503
    return jsonify(status="ok")
