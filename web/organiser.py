"""The organiser pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from domain.accounts import Role
from web.access import admits

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")


@blueprint.route("/")
@admits(Role.ORGANISER)
def index() -> Any:
    return render_template("organiser/index.html")
