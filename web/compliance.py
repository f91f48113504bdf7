"""The compliance pages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from domain.accounts import Role
from web.access import admits

blueprint = Blueprint("compliance", __name__, url_prefix="/compliance")


@blueprint.route("/")
@admits(Role.COMPLIANCE_OFFICER, Role.AUDIT_ADMINISTRATOR)
def index() -> Any:
    return render_template("compliance/index.html")
