"""``huiyan health`` (also ``huiyan-health``, which starts in a tenth of the time: it imports
no other command): the health check of every huiyan image.

Exit 0 when the ledger's database (and Redis, where the deployment has one) answer; exit 1
with one line naming what does not. ``--web URL`` asks a web server's ``/healthz`` instead,
which makes the same checks from inside the server. Container engines run it every few
seconds, so it opens nothing else (services/health.py).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import click

from ledger.console import one_line_errors
from ledger.settings import Settings, SettingsError
from services.health import TIMEOUT_SECONDS, unreachable


def _web_answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/healthz", timeout=TIMEOUT_SECONDS):
            return True  # urlopen raises on anything but 2xx
    except (urllib.error.URLError, OSError):
        return False


@click.command()
@click.option(
    "--web",
    "web_url",
    metavar="URL",
    help="Ask the web server at URL (e.g. http://127.0.0.1:8000) for /healthz instead.",
)
@one_line_errors(SettingsError)
def health(web_url: str | None) -> None:
    """Check that the database (and Redis, when configured) answer; exit 1 if not."""
    if web_url and not web_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--web")
    failed = (
        ([] if _web_answers(web_url) else ["web"]) if web_url else unreachable(Settings.from_env())
    )
    if failed:
        click.echo(f"unhealthy: no answer from {', '.join(failed)}", err=True)
        raise SystemExit(1)
    click.echo("healthy")
