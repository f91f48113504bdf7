"""The expert pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from domain.accounts import Role
from web.access import admits

blueprint = Blueprint("expert", __name__, url_prefix="/expert")


@blueprint.route("/")
@admits(Role.EXPERT)
def index() -> Any:
    return render_template("expert/index.html")
