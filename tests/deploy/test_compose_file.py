"""deploy/docker-compose.yml and deploy/Dockerfile, checked without starting anything:
`docker-compose config` (Debian's 1.29, which validates against the Compose specification)
accepts the file, and the properties the deployment's security rests on hold for every
service: host networking on loopback only, no published port and no bridge, read-only
containers without capabilities or new privileges, secrets from files, one dispatcher, the
GPU workers pinned one GPU each, the relaxation bubblewrap needs on the sandboxing workers
only."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SANDBOXING = {"scoring", "inference-cpu", "inference-gpu0", "inference-gpu1"}
HUIYAN_IMAGES = {"web", "worker-cpu", "worker-gpu"}


def configured(path: Path = DEPLOY / "docker-compose.yml", **env: str) -> dict[str, Any]:
    """The file as docker-compose resolves it (variables, anchors, merges)."""
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose", FileNotFoundError("Debian's docker-compose is missing"))
    done = subprocess.run(["docker-compose", "-f", str(path), "config"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return configured()["services"]


def test_every_service_uses_the_host_network_on_loopback_and_publishes_no_port(services):
    config = configured()
    assert "networks" not in config
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        assert "ports" not in service and "networks" not in service, name
    assert services["web"]["command"][services["web"]["command"].index("--host") + 1] == (
        "127.0.0.1"
    )
    witness = services["witness"]["command"]
    assert witness[witness.index("--host") + 1] == "127.0.0.1"


def test_every_container_is_read_only_unprivileged_and_without_capabilities(services):
    for name, service in services.items():
        assert service.get("read_only") is True, name
        assert service.get("cap_drop") == ["ALL"], name
        assert "cap_add" not in service, name
        assert "no-new-privileges=true" in service["security_opt"], name
        assert "user" not in service, f"{name} runs as its image's own unprivileged user"
        assert not any("docker.sock" in str(volume) for volume in service.get("volumes", []))


def test_only_the_sandboxing_workers_are_privileged_and_they_hold_no_capability(services):
    """bubblewrap needs an unmasked /proc, which Compose can only give with `privileged`; the
    worker stays uid 10001 with no capabilities and no new privileges, so it holds none."""
    for name, service in services.items():
        assert bool(service.get("privileged")) == (name in SANDBOXING), name
        assert not any(opt.startswith(("seccomp=", "apparmor=")) for opt in
                       service["security_opt"]), name  # fmt: skip


def test_secrets_come_from_files_and_never_from_the_environment(services):
    secrets = configured()["secrets"]
    assert set(secrets) == {"postgres_password", "pgpass", "ledger_key", "metrics_token"}
    assert all(set(secret) == {"file"} for secret in secrets.values())
    for name, service in services.items():
        environment = service.get("environment", {})
        for variable, value in environment.items():
            if re.search(r"PASSWORD|SECRET|TOKEN", variable):  # only ever the file's path
                assert variable.endswith("_FILE"), (name, variable)
                assert str(value).startswith("/run/secrets/"), (name, variable)
            for url in re.findall(r"\w[\w+.-]*://\S+", str(value)):
                assert urlsplit(url).password is None, (name, variable)
        if "HUIYAN_METRICS_TOKEN_FILE" in environment:
            assert "metrics_token" in [s["source"] for s in service["secrets"]], name
        if "HUIYAN_DATABASE_URL" in environment:
            assert environment["PGPASSFILE"] == "/run/secrets/pgpass", name
            assert environment["HUIYAN_LEDGER_KEY"] == "/run/secrets/ledger_key", name


def test_every_huiyan_process_waits_for_the_migration(services):
    assert services["migrate"]["command"] == ["huiyan", "ledger", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name in ("postgres", "redis", "witness", "migrate"):
            assert "migrate" not in service.get("depends_on", {}), name
        else:
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }, name


def test_one_dispatcher_and_gpu_workers_pinned_one_gpu_each(services):
    assert "deploy" not in services["dispatcher"] and "scale" not in services["dispatcher"]
    gpus = {name: s for name, s in services.items() if s.get("profiles") == ["gpu"]}
    assert set(gpus) == {"inference-gpu0", "inference-gpu1"}
    pinned = []
    for name, service in gpus.items():
        assert service["image"].startswith("huiyan/worker-gpu:"), name
        (device,) = service["deploy"]["resources"]["reservations"]["devices"]
        assert device["capabilities"] == ["gpu"] and len(device["device_ids"]) == 1, name
        pinned.append(device["device_ids"][0])
        assert service["environment"]["HUIYAN_GPU"] == "0"  # the one GPU the container sees
        assert service["command"][-2:] == ["--queues", "inference"]
    assert len(set(pinned)) == len(pinned)  # never two workers on one GPU
    assert services["inference-cpu"]["profiles"] == ["cpu"]


def test_ports_and_volumes_follow_the_variables(services):
    moved = configured(HUIYAN_WEB_PORT="18000", HUIYAN_POSTGRES_PORT="15432",
                       HUIYAN_HOME_VOLUME="/srv/huiyan")["services"]  # fmt: skip
    assert "18000" in moved["web"]["command"]
    assert ":15432/huiyan" in moved["scoring"]["environment"]["HUIYAN_DATABASE_URL"]
    assert moved["postgres"]["environment"]["PGPORT"] == "15432"
    assert any(str(v).startswith("/srv/huiyan:/var/lib/huiyan") for v in moved["web"]["volumes"])


def test_a_service_that_breaks_the_rules_is_caught(tmp_path, services):
    """The checks above are not vacuous: a published port, a privileged service and an
    unknown key each fail."""
    text = (DEPLOY / "docker-compose.yml").read_text()
    unknown = tmp_path / "unknown.yml"
    unknown.write_text(text.replace("  dispatcher:\n", "  dispatcher:\n    pirvileged: true\n"))
    with pytest.raises(AssertionError, match="pirvileged"):
        configured(unknown)
    privileged = tmp_path / "privileged.yml"
    privileged.write_text(text.replace("  dispatcher:\n", "  dispatcher:\n    privileged: true\n"))
    with pytest.raises(AssertionError, match="dispatcher"):
        test_only_the_sandboxing_workers_are_privileged_and_they_hold_no_capability(
            configured(privileged)["services"]
        )
    root = tmp_path / "root.yml"
    root.write_text(text.replace("  scoring:\n", "  scoring:\n    user: root\n"))
    with pytest.raises(AssertionError, match="scoring"):
        test_every_container_is_read_only_unprivileged_and_without_capabilities(
            configured(root)["services"]
        )


def stages(dockerfile: Path = DEPLOY / "Dockerfile") -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("FROM "):
            current = line.split(" AS ")[-1].strip()
            found[current] = [line]
        elif current and line.strip() and not line.lstrip().startswith("#"):
            found[current].append(line.strip())
    return found


def test_every_image_runs_unprivileged_with_a_health_check():
    built = stages()
    images = {name for name in built if name in HUIYAN_IMAGES | {"postgres", "redis"}}
    assert images == HUIYAN_IMAGES | {"postgres", "redis"}
    for name in images:
        instructions = built[name]
        users = [line for line in instructions if line.startswith("USER ")]
        parent = instructions[0].split()[1]
        users += [line for line in built.get(parent, []) if line.startswith("USER ")]
        assert users and users[-1] not in ("USER root", "USER 0"), name
        assert any(line.startswith("HEALTHCHECK ") for line in instructions), name
    # only worker-gpu's own environment reaches an index; every other stage installs offline
    for name, instructions in built.items():
        installs = [line for line in instructions if "pip install" in line]
        for line in installs:
            assert ("--no-index" in line) != (name == "environment-gpu"), (name, line)
