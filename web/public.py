"""What anyone may see without signing in: the front page, the language switch, the published
leaderboard and the ledger's latest signed checkpoint with a receipt
checker."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from web.access import PUBLIC, admits
from web.i18n import LANGUAGES

blueprint = Blueprint("public", __name__)


@blueprint.route("/")
@admits(PUBLIC)
def index() -> Any:
    return render_template("public/index.html")


@blueprint.route("/language", methods=["POST"])
@admits(PUBLIC)
def language() -> Any:
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session["language"] = chosen
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("public.index")
    return redirect(target)


@blueprint.route("/leaderboard")
@admits(PUBLIC)
def leaderboard() -> Any:
    return render_template("public/index.html")


@blueprint.route("/ledger")
@admits(PUBLIC)
def checkpoint() -> Any:
    return render_template("public/index.html")
