"""Signing a decision in the browser: the person gives their password again (and their TOTP
code) in the form that makes the decision; they are proved only once the decision has passed
every rule, exactly as on the CLI (services/desk.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.signatures import Signer
from web.context import desk


class SignForm(FlaskForm):
    """A form whose submission is a signed decision; add the decision's own fields."""

    password = PasswordField(
        _l("Password (to sign)"), validators=[DataRequired(), Length(max=1000)]
    )
    code = StringField(_l("TOTP code"), validators=[Optional(), Length(max=12)])


def signer(form: SignForm) -> Signer:
    """The signed-in person's signer, with the credentials the form carries."""
    password, code = form.password.data or "", form.code.data or None
    return desk().signer(current_user.actor, lambda account: (password, code))
