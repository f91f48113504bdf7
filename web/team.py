"""The team pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from domain.accounts import Role
from web.access import PUBLIC, admits

blueprint = Blueprint("team", __name__, url_prefix="/team")


@blueprint.route("/")
@admits(Role.TEAM_MEMBER)
def index() -> Any:
    return render_template("team/index.html")


@blueprint.route("/sign-up")
@admits(PUBLIC)
def sign_up() -> Any:
    return render_template("team/index.html")
