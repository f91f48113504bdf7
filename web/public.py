"""What anyone may see without signing in: the front page, the language switch, the published
leaderboard and the ledger's latest signed checkpoint with its public keys and a receipt
checker (docs/web/compliance.md).

The leaderboard is ``huiyan results leaderboard`` (services/standings.py): only what the
latest publication of a track made public, in its mode, and nothing before it. The receipt
check runs in the browser (static/receipt.js); the same check on the server
(services/ledger_view.py) serves a browser without Ed25519 in WebCrypto.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from services import ledger_view
from services.errors import ServiceRefused
from services.ledger_view import MAX_RECEIPT_BYTES, ReceiptInvalid
from web.access import PUBLIC, admits
from web.compliance import the_ledger
from web.context import judging_desk, kept_pages, ledger_head
from web.i18n import LANGUAGES
from web.i18n import language as page_language
from web.security import limiter

blueprint = Blueprint("public", __name__)

RECEIPT_CHECKS_PER_MINUTE = "20 per minute"
LINES_PER_PAGE = 100  # a track of a thousand teams reads, and loads, a page at a time

# What each outcome of a receipt check means (the codes of services/ledger_view.py and
# static/receipt.js); the page hands them to the script as data-msg-<code>.
RECEIPT_MESSAGES = {
    "ok": _l("The receipt is valid: the event is in the signed ledger."),
    "shape": _l("This is not a receipt."),
    "checkpoint": _l("The checkpoint in the receipt does not parse."),
    "size": _l("The checkpoint is of another tree size than the receipt says."),
    "signature": _l("The checkpoint is not signed by the ledger's key."),
    "inclusion": _l("The inclusion proof does not lead to the checkpoint's root."),
    "server": _l("The site could not check the receipt; try again in a minute."),
}


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


# --- the leaderboard -------------------------------------------------------------------------


@blueprint.route("/leaderboard")
@admits(PUBLIC)
def leaderboard() -> Any:
    """One track's published leaderboard (``?track=N``; by default the first published one),
    a hundred lines a page, with a link to every track of the contest and whether it is
    published.

    Everything the board shows follows from the ledger's events, so the rendered board is kept
    per (ledger head, contest, track, page, language): until an event is appended, a read
    costs one query for the head. The page around it (the header's forms, with this visitor's
    CSRF token) is rendered for each request."""
    head = ledger_head()
    slug = request.args.get("contest", "")[:100]
    track = request.args.get("track", type=int)
    page = max(request.args.get("page", 1, type=int), 1)
    key = (head, slug, track, page, page_language())
    kept = kept_pages("boards")
    board = kept.get(key)
    if board is None:
        board = Markup(
            render_template("public/leaderboard_board.html", **_board(slug, track, page))
        )
        kept.put(key, board)
    return render_template("public/leaderboard.html", board=board)


def _board(slug: str, wanted: int | None, page: int) -> dict[str, Any]:
    jd = judging_desk()
    reads = jd.reads().judging
    contests = jd.desk.app.contests()
    if not contests:
        return {"contest": None, "tracks": [], "chosen": None, "board": None, "page": 1, "pages": 1}
    contest = next((c for c in contests if c.slug == slug), contests[-1])
    tracks = [
        {
            "id": track["id"],
            "name": _named(track["name"]),
            "published": reads.publication(contest.id, track["id"]) is not None,
        }
        for track in contest.tracks
    ]
    chosen = next((t for t in tracks if t["id"] == wanted), None) or next(
        (t for t in tracks if t["published"]), tracks[0] if tracks else None
    )
    board, pages = None, 1
    if chosen is not None and chosen["published"]:
        try:
            board = jd.leaderboard(contest.id, chosen["id"])
        except ServiceRefused:  # no rules in force: nothing can have been published
            board = None
    if board is not None:
        pages = max(1, -(-len(board["lines"]) // LINES_PER_PAGE))
        page = min(page, pages)
        board = {**board, "lines": board["lines"][(page - 1) * LINES_PER_PAGE :][:LINES_PER_PAGE]}
    return {
        "contest": {"name": _named(contest.name), "slug": contest.slug,
                    "several": len(contests) > 1},
        "tracks": tracks,
        "chosen": chosen,
        "board": board,
        "page": page,
        "pages": pages,
    }  # fmt: skip


def _named(names: dict[str, str]) -> str:
    return names.get(page_language()) or next(iter(names.values()), "")


# --- the ledger ------------------------------------------------------------------------------


class ReceiptForm(FlaskForm):
    receipt = TextAreaField(
        _l("Receipt (JSON)"), validators=[DataRequired(), Length(max=MAX_RECEIPT_BYTES)]
    )


@blueprint.route("/ledger")
@admits(PUBLIC)
def checkpoint() -> Any:
    return _ledger_page(ReceiptForm(), None)


@blueprint.route("/ledger/receipt", methods=["POST"])
@admits(PUBLIC)
@limiter.limit(RECEIPT_CHECKS_PER_MINUTE, methods=["POST"])
def check_receipt() -> Any:
    """The server's check of a receipt: JSON for the page's script, else the page again."""
    form = ReceiptForm()
    if not form.validate_on_submit():
        result = {"ok": False, "code": "shape", "detail": _("Paste a receipt (JSON).")}
    else:
        result = _checked(form.receipt.data)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(result), 200 if result["ok"] else 400
    return _ledger_page(form, result), 200 if result["ok"] else 400


def _checked(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {"ok": False, "code": "shape", "detail": _("The receipt is not JSON.")}
    try:
        found = ledger_view.check_receipt(data, the_ledger().verifier_keys())
    except ReceiptInvalid as error:
        return {"ok": False, "code": error.code, "detail": str(error)}
    detail = f"position {found.position} is in tree {found.tree_size} (key {found.key_id})"
    return {"ok": True, "code": "ok", "detail": detail}


def _ledger_page(form: ReceiptForm, result: dict[str, Any] | None) -> Any:
    health = ledger_view.health(the_ledger())
    note = the_ledger().cosigned_note(health.checkpoint) if health.checkpoint else None
    return render_template(
        "public/ledger.html",
        health=health,
        note=note,
        form=form,
        result=result,
        messages=RECEIPT_MESSAGES,
    )
