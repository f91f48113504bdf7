"""The arbitrator pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from domain.accounts import Role
from web.access import admits

blueprint = Blueprint("arbitrator", __name__, url_prefix="/arbitrator")


@blueprint.route("/")
@admits(Role.ARBITRATOR)
def index() -> Any:
    return render_template("arbitrator/index.html")
