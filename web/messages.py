"""The messages pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from web.access import SIGNED_IN, admits

blueprint = Blueprint("messages", __name__, url_prefix="/messages")


@blueprint.route("/")
@admits(SIGNED_IN)
def inbox() -> Any:
    return render_template("messages/index.html")
