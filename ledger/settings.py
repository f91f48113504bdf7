"""The one settings object, read once from the environment (``HUIYAN_*``).

Every part of huiyan (ledger, workers, web, CLI) takes a :class:`Settings` instead of reading
``os.environ`` itself, so that a test or a rehearsal can build one explicitly and nothing
depends on import-time state. docs/settings.md lists every variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.witnesses import WitnessEndpoint, parse_witnesses

EVENTS_TABLE = "ledger_events"


class SettingsError(ValueError):
    """A setting has a value huiyan cannot use; the message names the variable."""


def check_database_url(url: str, source: str) -> None:
    """Refuse a URL huiyan cannot use, naming where it came from (never echoing a password)."""
    if not url.startswith(("sqlite://", "postgresql+psycopg://")):
        raise SettingsError(
            f"{source} must start with sqlite:// or postgresql+psycopg:// "
            f"(got {url.split('://', 1)[0]}://...)"
        )


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None = None
    environment: str = "development"
    clock: datetime | None = None
    key_path: Path | None = None
    origin: str = "huiyan.example/ledger"
    sandbox: str = "process"
    gpu: str | None = None
    run_wall_seconds: float = 3600.0
    run_memory_bytes: int = 16 << 30
    run_output_bytes: int = 2 << 30
    events_table: str = EVENTS_TABLE
    access_events_table: str = "access_events"  # the access log's own stream
    sandbox_unisolated: bool = False  # development only: run bundles without namespaces
    docker_runtime: str = "auto"  # runc, runsc (gVisor), or auto: runsc where the engine has it
    session_minutes: int = 30  # how long a sign-in lasts (HUIYAN_SESSION_MINUTES)
    witnesses: tuple[WitnessEndpoint, ...] = ()  # asked to cosign each checkpoint
    upload_bytes: int = 1 << 30  # the web's cap on one request's body (HUIYAN_UPLOAD_MB)
    smtp: str | None = None  # host:port of the mail relay (HUIYAN_SMTP); none: in-site only
    mail_from: str = "huiyan@localhost"  # the sender of every e-mail (HUIYAN_MAIL_FROM)
    metrics_token: str | None = None  # the bearer token /metrics asks for; none: no /metrics
    metrics_dir: Path | None = None  # prometheus-client's multiprocess folder (gunicorn)

    def now(self) -> datetime:
        """The one clock: ``HUIYAN_CLOCK`` when set (tests, rehearsals), else the system's UTC
        time. Everything that needs the time takes it from here and passes it on."""
        return self.clock or datetime.now(UTC)

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def blobs_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def witness_dir(self) -> Path:
        """Where ``huiyan audit witness`` keeps its key and state when it runs here."""
        return self.home / "witness"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("HUIYAN_HOME", "./instance")).expanduser().absolute()
        database_url = env.get("HUIYAN_DATABASE_URL") or f"sqlite:///{home / 'huiyan.sqlite3'}"
        check_database_url(database_url, "HUIYAN_DATABASE_URL")
        environment = env.get("HUIYAN_ENV", "development")
        if environment not in ("development", "test", "production"):
            raise SettingsError(
                f"HUIYAN_ENV must be development, test or production (got {environment!r})"
            )
        clock = None
        if raw_clock := env.get("HUIYAN_CLOCK"):
            if environment == "production":
                raise SettingsError("HUIYAN_CLOCK is refused when HUIYAN_ENV=production")
            try:
                clock = datetime.fromisoformat(raw_clock)
            except ValueError:
                raise SettingsError(
                    f"HUIYAN_CLOCK must be an ISO 8601 time (got {raw_clock!r})"
                ) from None
            if clock.tzinfo is None:
                raise SettingsError(
                    f"HUIYAN_CLOCK must carry a UTC offset, e.g. +08:00 (got {raw_clock!r})"
                )
        key_path = env.get("HUIYAN_LEDGER_KEY")
        sandbox = env.get("HUIYAN_SANDBOX", "process")
        if sandbox not in ("process", "docker"):
            raise SettingsError(f"HUIYAN_SANDBOX must be process or docker (got {sandbox!r})")
        unisolated = env.get("HUIYAN_SANDBOX_UNISOLATED", "")
        if unisolated not in ("", "allow"):
            raise SettingsError(
                f"HUIYAN_SANDBOX_UNISOLATED must be allow or unset (got {unisolated!r})"
            )
        if unisolated and environment != "development":
            raise SettingsError(
                "HUIYAN_SANDBOX_UNISOLATED=allow is refused unless HUIYAN_ENV=development: "
                "outside development a model never runs without isolation"
            )
        docker_runtime = env.get("HUIYAN_DOCKER_RUNTIME") or cls.docker_runtime
        if docker_runtime not in ("auto", "runc", "runsc"):
            raise SettingsError(
                f"HUIYAN_DOCKER_RUNTIME must be auto, runc or runsc (got {docker_runtime!r})"
            )
        try:
            witnesses = parse_witnesses(env.get("HUIYAN_WITNESSES", ""))
        except ValueError as error:
            raise SettingsError(f"HUIYAN_WITNESSES: {error}") from None
        return cls(
            home=home,
            database_url=database_url,
            redis_url=env.get("HUIYAN_REDIS_URL") or None,
            environment=environment,
            clock=clock,
            key_path=Path(key_path) if key_path else None,
            origin=env.get("HUIYAN_LEDGER_ORIGIN", cls.origin),
            sandbox=sandbox,
            sandbox_unisolated=bool(unisolated),
            docker_runtime=docker_runtime,
            witnesses=witnesses,
            gpu=env.get("HUIYAN_GPU") or None,
            run_wall_seconds=_positive(env, "HUIYAN_RUN_WALL_SECONDS", cls.run_wall_seconds),
            session_minutes=int(_positive(env, "HUIYAN_SESSION_MINUTES", cls.session_minutes)),
            run_output_bytes=int(
                _positive(env, "HUIYAN_RUN_OUTPUT_MB", cls.run_output_bytes / (1 << 20)) * (1 << 20)
            ),
            run_memory_bytes=int(
                _positive(env, "HUIYAN_RUN_MEMORY_GB", cls.run_memory_bytes / (1 << 30)) * (1 << 30)
            ),
            upload_bytes=int(
                _positive(env, "HUIYAN_UPLOAD_MB", cls.upload_bytes / (1 << 20)) * (1 << 20)
            ),
            smtp=_smtp(env.get("HUIYAN_SMTP") or None),
            mail_from=env.get("HUIYAN_MAIL_FROM", cls.mail_from),
            metrics_token=_metrics_token(_secret(env, "HUIYAN_METRICS_TOKEN")),
            metrics_dir=_metrics_dir(env.get("PROMETHEUS_MULTIPROC_DIR") or None),
        )


MIN_METRICS_TOKEN = 32


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret given as ``NAME`` or, as containers give secrets, in the file ``NAME_FILE``
    (its text, stripped): a value in the environment shows in ``docker inspect``."""
    value, path = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return value
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{name}_FILE cannot be read ({path}: {error})") from None


def _metrics_token(raw: str | None) -> str | None:
    """A secret long enough that guessing it is hopeless: the web answers /metrics to nobody
    else, and a wrong guess learns only a 404."""
    if raw is not None and (
        len(raw) < MIN_METRICS_TOKEN or not raw.isascii() or not raw.isprintable() or " " in raw
    ):
        raise SettingsError(
            f"HUIYAN_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} printable ASCII "
            "characters without spaces (e.g. `openssl rand -hex 32`)"
        )
    return raw


def _metrics_dir(raw: str | None) -> Path | None:
    """prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself, when it is imported; this is
    huiyan's copy, checked here because the library would fail only at the first request."""
    if raw is None:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise SettingsError(f"PROMETHEUS_MULTIPROC_DIR must be an existing folder (got {raw!r})")
    return path


def _smtp(raw: str | None) -> str | None:
    if raw is None:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"HUIYAN_SMTP must be host:port (got {raw!r})")
    return raw


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number (got {raw!r})") from None
    if not value > 0:
        raise SettingsError(f"{name} must be positive (got {raw!r})")
    return value
