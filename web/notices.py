"""What the organisers tell everyone: announcements (公告), versioned, and the data catalogue
of each track (docs/web/notices.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from web.access import PUBLIC, admits

blueprint = Blueprint("notices", __name__)


@blueprint.route("/announcements")
@admits(PUBLIC)
def announcements() -> Any:
    return render_template("public/index.html")
