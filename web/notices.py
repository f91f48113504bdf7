"""What the organisers tell everyone: announcements (公告), versioned, and the data catalogue
of each track (docs/web/notices.md).

The lists and pages are public; publishing, revising and withdrawing are an organiser's signed
acts (the password and code again, as the rules are published), through the same desk a CLI
would use (domain/noticeboard.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from domain.accounts import Role
from domain.announcements import Announcement
from domain.errors import AnnouncementNotFound, DomainError
from domain.noticeboard import Noticeboard
from ledger.application import open_application
from services.catalogue import catalogue
from services.errors import ServiceRefused
from services.signin import SignInRefused
from web.access import PUBLIC, admits
from web.context import desk, services
from web.errors import refusal
from web.i18n import language
from web.signing import SignForm, signer

blueprint = Blueprint("notices", __name__)
TITLE_CHARACTERS, BODY_CHARACTERS = 200, 20000
REFUSED = (DomainError, SignInRefused, ServiceRefused)
# The catalogue's words (services/catalogue.py) in the page's language.
WORDS = {
    "segmentation": _l("segmentation"),
    "detection": _l("detection"),
    "detection map": _l("detection map"),
    "classification": _l("classification"),
    "CT": _l("CT"),
    "CTA": _l("CT angiography"),
    "MRI": _l("MRI"),
    "mammography": _l("mammography"),
    "ultrasound": _l("ultrasound"),
    "X-ray": _l("X-ray"),
}


def board() -> Noticeboard:
    """The noticeboard desk, opened once per process like the other applications."""
    found = current_app.extensions.get("huiyan_noticeboard")
    if found is None:
        found = open_application(Noticeboard, services().settings)
        current_app.extensions["huiyan_noticeboard"] = found
    return found


def _announcement(announcement_id: UUID) -> Announcement:
    try:
        return board().announcement(announcement_id)
    except AnnouncementNotFound:
        abort(404)


TITLE = [DataRequired(), Length(max=TITLE_CHARACTERS)]
BODY = [DataRequired(), Length(max=BODY_CHARACTERS)]


class TextForm(SignForm):
    title_zh = StringField(_l("Title (Chinese)"), validators=TITLE)
    title_en = StringField(_l("Title (English)"), validators=TITLE)
    body_zh = TextAreaField(_l("Text (Chinese)"), validators=BODY)
    body_en = TextAreaField(_l("Text (English)"), validators=BODY)

    def texts(self) -> dict[str, dict[str, str]]:
        return {
            "title": {"zh": self.title_zh.data, "en": self.title_en.data},
            "body": {"zh": self.body_zh.data, "en": self.body_en.data},
        }


class PublishForm(TextForm):
    contest = SelectField(_l("Contest"), validators=[DataRequired()])


class WithdrawForm(SignForm):
    reason = TextAreaField(_l("Why it is withdrawn"), validators=[DataRequired(), Length(max=2000)])


# --- public pages ------------------------------------------------------------------------------


@blueprint.route("/announcements")
@admits(PUBLIC)
def announcements() -> Any:
    """The announcements that stand, the latest change first; the withdrawn ones below."""
    found = sorted(board().announcements(), key=lambda a: a.current["at"], reverse=True)
    standing = [a for a in found if a.withdrawn is None]
    withdrawn = [a for a in found if a.withdrawn is not None]
    return render_template("notices/announcements.html", standing=standing, withdrawn=withdrawn,
                           language=language(), organiser=_organiser())  # fmt: skip


@blueprint.route("/announcements/<uuid:announcement_id>")
@admits(PUBLIC)
def announcement(announcement_id: UUID) -> Any:
    """One announcement: its current version, then every earlier one, newest first."""
    found = _announcement(announcement_id)
    return render_template("notices/announcement.html", announcement=found,
                           versions=list(reversed(found.versions)), language=language(),
                           organiser=_organiser())  # fmt: skip


@blueprint.route("/data")
@admits(PUBLIC)
def data() -> Any:
    """What each track's data is and which test sets are registered for it (by hash)."""
    found = services()
    contests = [
        (contest, catalogue(found.registration, found.submissions, found.blobs, contest))
        for contest in found.registration.contests()
    ]
    return render_template("notices/data.html", contests=contests, language=language(), words=WORDS)


# --- the organiser's acts ----------------------------------------------------------------------


@blueprint.route("/announcements/new", methods=["GET", "POST"])
@admits(Role.ORGANISER)
def publish() -> Any:
    form = PublishForm()
    contests = services().registration.contests()
    form.contest.choices = [(str(c.id), c.name.get(language(), c.slug)) for c in contests]
    if form.validate_on_submit():
        texts = form.texts()
        try:
            made = board().publish_announcement(
                UUID(form.contest.data), title=texts["title"], body=texts["body"],
                actor=current_user.actor, now=desk().now, signer=signer(form),
            )  # fmt: skip
        except REFUSED as refused:
            flash(refusal(refused), "error")
        else:
            flash(_("The announcement is published."), "info")
            return redirect(url_for("notices.announcement", announcement_id=made))
    return render_template("notices/publish.html", form=form, announcement=None)


@blueprint.route("/announcements/<uuid:announcement_id>/revise", methods=["GET", "POST"])
@admits(Role.ORGANISER)
def revise(announcement_id: UUID) -> Any:
    found = _announcement(announcement_id)
    current = found.current
    form = TextForm(
        data={
            "title_zh": current["title"]["zh"],
            "title_en": current["title"]["en"],
            "body_zh": current["body"]["zh"],
            "body_en": current["body"]["en"],
        }  # fmt: skip
    )
    if form.validate_on_submit():
        texts = form.texts()
        try:
            version = board().revise_announcement(
                found.id, title=texts["title"], body=texts["body"], actor=current_user.actor,
                now=desk().now, signer=signer(form),
            )  # fmt: skip
        except REFUSED as refused:
            flash(refusal(refused), "error")
        else:
            flash(_("Version %(version)s is published.", version=version), "info")
            return redirect(url_for("notices.announcement", announcement_id=found.id))
    return render_template("notices/publish.html", form=form, announcement=found)


@blueprint.route("/announcements/<uuid:announcement_id>/withdraw", methods=["GET", "POST"])
@admits(Role.ORGANISER)
def withdraw(announcement_id: UUID) -> Any:
    found = _announcement(announcement_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            board().withdraw_announcement(found.id, reason=form.reason.data,
                                          actor=current_user.actor, now=desk().now,
                                          signer=signer(form))  # fmt: skip
        except REFUSED as refused:
            flash(refusal(refused), "error")
        else:
            flash(_("The announcement is withdrawn."), "info")
            return redirect(url_for("notices.announcement", announcement_id=found.id))
    return render_template("notices/withdraw.html", form=form, announcement=found,
                           language=language())  # fmt: skip


def _organiser() -> bool:
    return bool(getattr(current_user, "is_authenticated", False)) and (
        current_user.role is Role.ORGANISER
    )
