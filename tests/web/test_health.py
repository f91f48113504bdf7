"""The health checks an orchestrator asks: ``GET /healthz`` (web) and ``huiyan health``
(workers, dispatcher, cron jobs). Each says healthy only when the database and Redis answer,
names what does not, and never shows an address (which may hold a password)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from cli.health import health
from huiyan_cli import main
from ledger.settings import Settings
from tests.flows import REGISTRATION_TIME
from tests.support import create_postgres_database, drop_postgres_database
from tests.web.site import site
from web import create_app

SILENT_REDIS = "redis://:secret-password@127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_answers_ok_when_the_ledger_answers(registered) -> None:
    answer = registered.app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_healthz_is_503_naming_redis_when_redis_is_silent(registered, monkeypatch) -> None:
    monkeypatch.setitem(registered.huiyan.env, "HUIYAN_REDIS_URL", SILENT_REDIS)
    answer = site(registered.huiyan, REGISTRATION_TIME).test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "unreachable": ["redis"]}
    assert "secret-password" not in answer.get_data(as_text=True)


@pytest.mark.postgres
def test_healthz_is_503_naming_the_database_once_it_is_gone(tmp_path) -> None:
    url = create_postgres_database()
    try:
        settings = Settings.from_env({"HUIYAN_HOME": str(tmp_path), "HUIYAN_DATABASE_URL": url})
        client = create_app(settings, config={"TESTING": True}).test_client()
        assert client.get("/healthz").status_code == 200
    finally:
        drop_postgres_database(url)  # WITH (FORCE): the application's connections end too
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "unreachable": ["database"]}


@pytest.mark.postgres
@pytest.mark.redis
def test_the_health_command_passes_on_postgres_and_redis(postgres_url, redis_url, tmp_path):
    env = {"HUIYAN_HOME": str(tmp_path), "HUIYAN_DATABASE_URL": postgres_url,
           "HUIYAN_REDIS_URL": redis_url}  # fmt: skip
    result = CliRunner().invoke(main, ["health"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "healthy"


def test_the_health_command_fails_naming_each_silent_part(tmp_path) -> None:
    env = {
        "HUIYAN_HOME": str(tmp_path),
        "HUIYAN_DATABASE_URL": "postgresql+psycopg://postgres:db-password@127.0.0.1:1/none",
        "HUIYAN_REDIS_URL": SILENT_REDIS,
    }
    result = CliRunner().invoke(health, [], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == "unhealthy: no answer from database, redis"
    assert "password" not in result.output


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_the_health_command_asks_a_web_server_for_its_healthz(status, exit_code) -> None:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = CliRunner().invoke(health, ["--web", url], env={"HUIYAN_HOME": "/nonexistent"})
    finally:
        server.shutdown()
    assert result.exit_code == exit_code, result.output
    assert result.output.strip() == (
        "healthy" if exit_code == 0 else "unhealthy: no answer from web"
    )


def test_the_health_command_asks_the_web_over_http_only(tmp_path) -> None:
    """urllib would open file:// (or ftp://) as gladly; a health check asks a web server."""
    result = CliRunner().invoke(health, ["--web", f"file://{tmp_path}"])
    assert result.exit_code == 2
    assert "--web" in result.output and "http:// or https://" in result.output
