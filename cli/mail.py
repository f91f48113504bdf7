"""``huiyan mail send``: the operator's command that hands the in-site messages and the
invitations of the outbox to the mail relay (services/mail.py). Run it on a schedule (cron, a
systemd timer) beside the dispatcher; each message goes once however often it runs."""

from __future__ import annotations

import smtplib
import sys

import click

from ledger.settings import SettingsError
from services.desk import Desk
from services.mail import send_pending


@click.group("mail")
def mail() -> None:
    """E-mail through the relay named by HUIYAN_SMTP (host:port)."""


@mail.command("send")
def send() -> None:
    """Send every message and invitation not sent yet; prints what went."""
    try:
        desk = Desk.open()
    except SettingsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if desk.settings.smtp is None:
        click.echo("HUIYAN_SMTP is not set: messages stay in the site", err=True)
        return
    try:
        outcome = send_pending(desk)
    except (OSError, smtplib.SMTPException) as error:
        click.echo(f"error: the mail relay {desk.settings.smtp} failed: {error}", err=True)
        sys.exit(2)
    for key in outcome.sent:
        click.echo(f"sent {key}")
    for key in outcome.unaddressed:
        click.echo(f"no address for {key}", err=True)
    for key in outcome.stuck:
        click.echo(f"claimed by a run that did not finish, not sent again: {key}", err=True)
