"""The in-site messages (站内信, docs/web/notices.md): a signed-in person's inbox, newest first,
unread marked; opening a message marks it read for that person; the count of unread messages
beside the menu's link.

The messages are a read model of the ledger (domain/inbox.py, services/inbox.py), addressed to
a team: a team member reads their team's, anyone else has none. Each is written in the team's
language (else Chinese), whatever the page's language.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from domain.inbox_texts import render
from services.inbox import SQLInbox, caught_up, open_inbox
from web.access import SIGNED_IN, admits
from web.context import desk, services

blueprint = Blueprint("messages", __name__, url_prefix="/messages")


def _view() -> SQLInbox:
    """The messages, caught up to the ledger's head; the projection is opened once per
    process (as the applications are), its position read again on every call."""
    projection = current_app.extensions.get("huiyan_inbox")
    if projection is None:
        projection = current_app.extensions["huiyan_inbox"] = open_inbox(services().registration)
    return caught_up(projection, services().registration)


@blueprint.app_context_processor
def unread_messages() -> dict[str, Any]:
    """The count of unread messages for the menu; none for a visitor or a person without a
    team (no message is addressed to them)."""
    if not getattr(current_user, "is_authenticated", False) or current_user.team_id is None:
        return {"unread_messages": 0}
    return {"unread_messages": _view().unread(current_user.account.id, current_user.team_id)}


@blueprint.route("/")
@admits(SIGNED_IN)
def inbox() -> Any:
    view = _view()
    team_id = current_user.team_id
    found = view.messages(team_id) if team_id is not None else []
    language = view.language(team_id) if team_id is not None else "zh"
    read = view.read_by(current_user.account.id)
    shown = [(message, render(message, language), message.id not in read) for message in found]
    return render_template("messages/index.html", messages=shown, language=language)


@blueprint.route("/<uuid:message_id>")
@admits(SIGNED_IN)
def message(message_id: UUID) -> Any:
    """One message; opening it marks it read. Another team's message is not found."""
    view = _view()
    found = view.message(message_id)
    if found is None or current_user.team_id is None or found.team_id != current_user.team_id:
        abort(404)
    view.mark_read(current_user.account.id, found.id, desk().now)
    language = view.language(found.team_id)
    subject, body = render(found, language)
    return render_template(
        "messages/message.html", message=found, subject=subject, body=body, language=language
    )
