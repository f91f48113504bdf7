"""deploy/k8s, checked offline (docs/deploy/kubernetes.md): every document against the strict
Kubernetes schemas, the kustomization against the files, every pod template against Pod
Security and the house's own rules, the NetworkPolicies connection by connection, the commands
against huiyan's own CLI, the settings against docs/settings.md. The last tests mutate a good
manifest and show that these checks catch the mutation."""

from __future__ import annotations

import copy
import importlib
import json
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from ledger.settings import Settings
from tests.deploy import pod_security
from tests.deploy.house_rules import SANDBOX, SANDBOX_SECCOMP, pod_problems
from tests.deploy.manifests import (
    Manifest,
    kustomization,
    listed_files,
    load,
    pod_template,
    schema_problems,
)
from tests.deploy.network import Network, Outside, Pod

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# applied on its own, before the rollout (`kubectl apply -k deploy/k8s/migrate`)
MIGRATE = K8S / "migrate"
GUIDE = ROOT / "docs" / "deploy" / "kubernetes.md"
MANIFESTS = load(K8S) + load(MIGRATE)

NAMESPACES = {"huiyan", SANDBOX}
WORKERS = {"worker-scoring", "worker-inference"}
HOME = "/var/lib/huiyan"
IMAGES = {
    "web": "huiyan/web:0.1.0",
    "dispatcher": "huiyan/worker-cpu:0.1.0",
    "worker-scoring": "huiyan/worker-cpu:0.1.0",
    "worker-inference": "huiyan/worker-gpu:0.1.0",
    "checkpoint": "huiyan/worker-cpu:0.1.0",
    "verify": "huiyan/worker-cpu:0.1.0",
    "migrate": "huiyan/worker-cpu:0.1.0",
    "postgres": "huiyan/postgres:0.1.0",
    "redis": "huiyan/redis:0.1.0",
}
ALLOWED_KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "components"}
# what the workers' seccomp profile must refuse, and what bubblewrap must be left
KERNEL_FACING = {"bpf", "keyctl", "userfaultfd", "io_uring_setup", "ptrace", "kexec_load"}
BWRAP_NEEDS = {"unshare", "clone", "clone3", "mount", "umount2", "pivot_root", "sethostname"}


def _of_kind(kind: str) -> list[Manifest]:
    return [m for m in MANIFESTS if m.kind == kind]


def _workloads() -> list[Manifest]:
    return [m for m in MANIFESTS if pod_template(m.doc) is not None]


def _workload(name: str) -> Manifest:
    (found,) = [m for m in _workloads() if m.name == name]
    return found


def _component(manifest: Manifest) -> str:
    return pod_template(manifest.doc)["metadata"]["labels"]["app.kubernetes.io/component"]


def _ids(manifests: list[Manifest]) -> list[str]:
    return [str(m) for m in manifests]


# --- what every pod must be -------------------------------------------------------------------


@pytest.mark.parametrize("manifest", MANIFESTS, ids=_ids(MANIFESTS))
def test_every_document_validates_against_the_strict_schemas(manifest: Manifest) -> None:
    assert schema_problems(manifest.doc) == []


@pytest.mark.parametrize("manifest", _workloads(), ids=_ids(_workloads()))
def test_every_pod_meets_pod_security_and_the_house_rules(manifest: Manifest) -> None:
    assert pod_problems(manifest.doc) == []


def test_the_kustomizations_list_every_manifest_and_only_those() -> None:
    on_disk = sorted(p.resolve() for p in [*K8S.rglob("*.yaml"), *K8S.rglob("*.yml")])
    kustomizations = [p for p in on_disk if p.name == "kustomization.yaml"]
    # the rollout's and the migration's, each file in exactly one: applying the rollout never
    # migrates, and the migration is nothing but the Job
    listed = listed_files(K8S) + listed_files(MIGRATE)
    assert len(listed) == len(set(listed))
    assert sorted(listed) == [p for p in on_disk if p not in kustomizations]
    assert [(m.kind, m.name) for m in load(MIGRATE)] == [("Job", "migrate")]
    # no transformer: the files are exactly what the cluster receives
    for path in kustomizations:
        assert set(kustomization(path.parent)) <= ALLOWED_KUSTOMIZATION_KEYS, path


def test_every_object_lives_in_a_huiyan_namespace_and_pod_security_is_enforced_there() -> None:
    namespaces = {m.name: m.doc["metadata"]["labels"] for m in _of_kind("Namespace")}
    assert set(namespaces) == NAMESPACES
    assert {m.namespace for m in MANIFESTS if m.kind != "Namespace"} == NAMESPACES
    assert namespaces["huiyan"]["pod-security.kubernetes.io/enforce"] == "restricted"
    sandbox = namespaces[SANDBOX]
    assert sandbox["pod-security.kubernetes.io/enforce"] == "baseline"
    # the relaxation for user-namespaced pods exists from policy 1.35 on
    version = sandbox["pod-security.kubernetes.io/enforce-version"]
    assert version == "latest" or tuple(map(int, version.lstrip("v").split("."))) >= (1, 35)
    for labels in namespaces.values():
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def test_only_the_workers_run_in_the_sandbox_namespace() -> None:
    assert {_component(m) for m in _workloads() if m.namespace == SANDBOX} == WORKERS


def test_the_node_profiles_are_those_the_sandbox_pods_name_and_open_only_what_bwrap_needs() -> None:
    node = K8S / "node"
    profile = json.loads((node / "seccomp" / "huiyan-sandbox.json").read_text())
    assert SANDBOX_SECCOMP["localhostProfile"] == "profiles/huiyan-sandbox.json"
    assert re.search(
        r"^profile huiyan-sandbox ", (node / "apparmor" / "huiyan-sandbox").read_text(), re.M
    )
    # 32-bit entry points would bypass a list of 64-bit names: only 64-bit tables are allowed
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]
    rules = profile["syscalls"]
    assert {rule["action"] for rule in rules} == {"SCMP_ACT_ERRNO"}
    denied = {name for rule in rules for name in rule["names"]}
    assert denied >= KERNEL_FACING
    assert not denied & BWRAP_NEEDS


# --- the workloads ------------------------------------------------------------------------------


def test_images_are_huiyans_own_per_component() -> None:
    for manifest in _workloads():
        for container in pod_security.containers(pod_template(manifest.doc)["spec"]):
            assert container["image"] == IMAGES[_component(manifest)], manifest


def test_the_gpu_workers_hold_one_gpu_each_on_gpu_nodes() -> None:
    spec = pod_template(_workload("worker-inference").doc)["spec"]
    (container,) = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    assert container["command"][-2:] == ["--queues", "inference"]
    assert {"name": "HUIYAN_GPU", "value": "0"} in container["env"]


def test_the_scoring_workers_serve_only_scoring_and_hold_no_gpu() -> None:
    spec = pod_template(_workload("worker-scoring").doc)["spec"]
    (container,) = spec["containers"]
    assert container["command"][-2:] == ["--queues", "scoring"]
    assert "nvidia.com/gpu" not in str(spec)


def test_there_is_one_dispatcher_replaced_by_recreate() -> None:
    dispatcher = _workload("dispatcher").doc
    assert dispatcher["spec"]["replicas"] == 1
    assert dispatcher["spec"]["strategy"] == {"type": "Recreate"}


def test_the_cronjobs_checkpoint_and_verify_both_streams_one_run_at_a_time() -> None:
    jobs = {m.name: m.doc for m in _of_kind("CronJob")}
    assert set(jobs) == {"checkpoint", "verify"}
    for name, job in jobs.items():
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        assert 0 < job["spec"]["successfulJobsHistoryLimit"] <= 5
        assert 0 < job["spec"]["failedJobsHistoryLimit"] <= 5
        commands = [c["command"] for c in pod_template(job)["spec"]["containers"]]
        assert sorted(c[:3] for c in commands) == [["huiyan", "ledger", name]] * 2
        assert sorted("access" in c for c in commands) == [False, True]
    assert jobs["checkpoint"]["spec"]["schedule"] == "*/10 * * * *"
    assert jobs["verify"]["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0


RECORD = f"{HOME}/verifications"


def verification_problems(doc: dict[str, Any]) -> list[str]:
    """What lets the nightly verification change more than its record, or hold a private key:
    it records its verdict (``--record``, which the metrics read) in ``$HUIYAN_HOME/
    verifications``, a subPath of the home's claim, its one writable mount but /tmp. A claim's
    ``readOnly`` would hold for that mount too, so the home's claim is read-only mount by mount."""
    spec = pod_template(doc)["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    claims = {
        n: v["persistentVolumeClaim"] for n, v in volumes.items() if "persistentVolumeClaim" in v
    }
    found = [f"secret volume: {name}" for name, v in volumes.items() if "secret" in v]
    found += [
        f"claim {c['claimName']} is writable"
        for c in claims.values()
        if c["claimName"] != "huiyan-home" and not c.get("readOnly")
    ]
    for container in pod_security.containers(spec):
        name = container["name"]
        if "--record" not in container["command"]:
            found.append(f"{name}: its verdict is not recorded")
        if "HUIYAN_LEDGER_KEY" in str(container):
            found.append(f"{name}: holds the ledger key")
        writable = {
            (m["mountPath"], m.get("subPath"), m["name"])
            for m in container["volumeMounts"]
            if not m.get("readOnly")
        }
        record = (RECORD, "verifications", "home")
        home = claims["home"]
        if record not in writable or home["claimName"] != "huiyan-home" or home.get("readOnly"):
            found.append(f"{name}: its record is not writable")
        found += [
            f"{name}: {path} is writable"
            for path, _, volume in writable - {record}
            if not (path == "/tmp" and "emptyDir" in volumes[volume])
        ]
    return found


def test_verification_writes_only_its_record_and_holds_no_private_key() -> None:
    assert verification_problems(_workload("verify").doc) == []


# the pods that run this release's code on the contest's tables; verify reads only the events
# and evidence tables, whose columns every release keeps, and must verify any release's database
WRITERS = {"web", "dispatcher", "checkpoint", *WORKERS}


def _database_url(container: dict[str, Any]) -> dict[str, Any]:
    (env,) = [e for e in container["env"] if e["name"] == "HUIYAN_DATABASE_URL"]
    return env


def test_every_writer_waits_for_this_releases_schema() -> None:
    """`huiyan ledger migrate --check`, with the pod's own image (so the same release's head),
    settings and database, exits 1 behind and 2 on a newer release's schema: the pod does not
    start, and its init container is retried with back-off until the migrate Job has run."""
    waiting = set()
    for manifest in _workloads():
        spec = pod_template(manifest.doc)["spec"]
        if not spec.get("initContainers"):
            continue
        (check,) = spec["initContainers"]
        main = spec["containers"][0]
        assert check["command"] == ["huiyan", "ledger", "migrate", "--check"], manifest
        assert check["image"] == main["image"] and check["envFrom"] == main["envFrom"], manifest
        assert _database_url(check) == _database_url(main), manifest
        # the database's URL and nothing more: no key, no home, no Redis
        assert [e["name"] for e in check["env"]] == ["HUIYAN_DATABASE_URL"], manifest
        assert [m["mountPath"] for m in check["volumeMounts"]] == ["/tmp"], manifest
        waiting.add(_component(manifest))
    assert waiting == WRITERS


def test_the_migration_is_a_job_of_its_own_that_needs_only_the_database() -> None:
    job = _workload("migrate")
    assert (job.kind, job.namespace) == ("Job", "huiyan")
    assert 0 < job.doc["spec"]["backoffLimit"] <= 3
    assert job.doc["spec"]["ttlSecondsAfterFinished"] > 0
    spec = pod_template(job.doc)["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert container["command"] == ["huiyan", "ledger", "migrate"]
    web = pod_template(_workload("web").doc)["spec"]["containers"][0]
    assert container["envFrom"] == web["envFrom"]
    assert container["env"] == [_database_url(web)]
    assert [v["name"] for v in spec["volumes"]] == ["tmp"]


METRICS_PORTS = {"dispatcher": 9102, "worker-scoring": 9101, "worker-inference": 9101}


def test_the_dispatcher_and_the_workers_serve_metrics_on_a_named_port() -> None:
    for name, port in METRICS_PORTS.items():
        (container,) = pod_template(_workload(name).doc)["spec"]["containers"]
        command = container["command"]
        assert command[command.index("--metrics-port") + 1] == str(port), name
        assert command[command.index("--metrics-host") + 1] == "0.0.0.0", name
        assert container["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]


def test_the_web_reads_its_metrics_token_from_a_secret_and_adds_up_its_workers(
    tmp_path: Path,
) -> None:
    """The token is a file of the Secret huiyan-metrics-token (a value in the environment would
    show in the pod's spec); gunicorn's workers write their metrics to a memory emptyDir. The
    container's own settings, with its paths under tmp_path, give the web a token and the folder."""
    spec = pod_template(_workload("web").doc)["spec"]
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounted = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert "HUIYAN_METRICS_TOKEN" not in env
    folder, _ = env["HUIYAN_METRICS_TOKEN_FILE"].rsplit("/", 1)
    assert mounted[folder]["secret"]["secretName"] == "huiyan-metrics-token"
    assert mounted[env["PROMETHEUS_MULTIPROC_DIR"]]["emptyDir"]["medium"] == "Memory"

    here = {name: tmp_path / value.lstrip("/") for name, value in env.items()}
    here["PROMETHEUS_MULTIPROC_DIR"].mkdir(parents=True)
    here["HUIYAN_METRICS_TOKEN_FILE"].parent.mkdir(parents=True)
    here["HUIYAN_METRICS_TOKEN_FILE"].write_text("a1" * 32 + "\n")  # as `openssl rand -hex 32`
    (settings,) = [
        m.doc["data"]
        for m in _of_kind("ConfigMap")
        if (m.namespace, m.name) == ("huiyan", "huiyan-settings")
    ]
    loaded = Settings.from_env(
        {
            **settings,
            **{name: str(path) for name, path in here.items()},
            "HUIYAN_DATABASE_URL": "postgresql+psycopg://huiyan@postgres/huiyan",
        }
    )
    assert loaded.metrics_token == "a1" * 32
    assert loaded.metrics_dir == here["PROMETHEUS_MULTIPROC_DIR"]


def test_every_pod_that_mounts_the_home_mounts_its_keys_on_the_shared_claims() -> None:
    claims = {(m.namespace, m.name): m.doc["spec"] for m in _of_kind("PersistentVolumeClaim")}
    for manifest in _workloads():
        spec = pod_template(manifest.doc)["spec"]
        used = {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes") or []
            if "persistentVolumeClaim" in v
        }
        for container in spec["containers"]:
            mounts = {
                m["mountPath"]: used.get(m["name"]) for m in container.get("volumeMounts") or []
            }
            if HOME in mounts:
                assert mounts[HOME] == "huiyan-home" and mounts[f"{HOME}/keys"] == "huiyan-keys", (
                    manifest
                )
        for claim in used.values():
            assert claims[(manifest.namespace, claim)]["accessModes"] == ["ReadWriteMany"], manifest


def _console_scripts() -> dict[str, str]:
    """huiyan's commands, as pyproject.toml declares them: name -> "module:attribute"."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def _huiyan_commands() -> list[tuple[str, list[str]]]:
    """Every command line of the manifests that runs one of huiyan's commands: containers'
    commands and exec probes."""
    scripts, found = _console_scripts(), []
    for manifest in _workloads():
        for container in pod_security.containers(pod_template(manifest.doc)["spec"]):
            lines = [container.get("command") or []]
            lines += [
                (container.get(p) or {}).get("exec", {}).get("command") or []
                for p in ("startupProbe", "livenessProbe", "readinessProbe")
            ]
            where = f"{manifest.name}/{container['name']}"
            for line in lines:
                if line and line[0] in scripts and (where, line) not in found:
                    found.append((where, line))
    return found


@pytest.mark.parametrize(
    ("where", "line"),
    _huiyan_commands(),
    ids=[f"{w}: {shlex.join(c)}" for w, c in _huiyan_commands()],
)
def test_every_huiyan_command_line_parses_with_the_cli(where: str, line: list[str]) -> None:
    module, attribute = _console_scripts()[line[0]].split(":")
    command: click.Command = getattr(importlib.import_module(module), attribute)
    words = line[1:]
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(click.Context(command), words[0])
        assert sub is not None, f"{where}: no command {words[0]!r} in {shlex.join(line)}"
        command, words = sub, words[1:]
    command.make_context(shlex.join(line), list(words))  # a bad option or value raises


# --- configuration and secrets -----------------------------------------------------------------


def test_the_settings_are_documented_valid_and_agree_between_namespaces() -> None:
    documented = set(re.findall(r"`(HUIYAN_[A-Z_]+)`", (ROOT / "docs" / "settings.md").read_text()))
    named = set(
        re.findall(r"\bHUIYAN_[A-Z_]+\b", "".join(p.read_text() for p in listed_files(K8S)))
    )
    assert named <= documented
    assert not named & {"HUIYAN_CLOCK", "HUIYAN_SANDBOX_UNISOLATED"}
    settings = {
        m.namespace: m.doc["data"] for m in _of_kind("ConfigMap") if m.name == "huiyan-settings"
    }
    assert set(settings) == NAMESPACES
    shared = set(settings["huiyan"]) & set(settings[SANDBOX])
    assert {"HUIYAN_HOME", "HUIYAN_ENV", "HUIYAN_LEDGER_ORIGIN"} <= shared
    assert all(settings["huiyan"][k] == settings[SANDBOX][k] for k in shared)
    for data in settings.values():
        loaded = Settings.from_env(
            {**data, "HUIYAN_DATABASE_URL": "postgresql+psycopg://huiyan@postgres/huiyan"}
        )
        assert loaded.is_production and str(loaded.home) == HOME


# the settings that name a file holding a secret
SECRET_FILES = {"HUIYAN_LEDGER_KEY", "HUIYAN_SERVICE_KEY", "HUIYAN_METRICS_TOKEN_FILE"}


def _secret_references() -> set[tuple[str, str, str]]:
    """(namespace, secret, key) for every key a pod reads: env references, and the files its
    settings name in a mounted secret (a whole-secret volume needs the keys that are used)."""
    found = set()
    for manifest in _workloads():
        spec = pod_template(manifest.doc)["spec"]
        secrets = {
            v["name"]: v["secret"]["secretName"] for v in spec.get("volumes") or [] if "secret" in v
        }
        for container in pod_security.containers(spec):
            mounts = {
                m["mountPath"]: secrets[m["name"]]
                for m in container.get("volumeMounts") or []
                if m["name"] in secrets
            }
            for env in container.get("env") or []:
                if reference := (env.get("valueFrom") or {}).get("secretKeyRef"):
                    found.add((manifest.namespace, reference["name"], reference["key"]))
                elif env["name"] in SECRET_FILES:
                    folder, key = env["value"].rsplit("/", 1)
                    assert folder in mounts, f"{manifest}: {env['name']} is not in a mounted secret"
                    found.add((manifest.namespace, mounts[folder], key))
    return found


def test_no_secret_is_in_the_repository_and_the_guide_creates_every_one_the_pods_read() -> None:
    every_yaml = [*(ROOT / "deploy").rglob("*.yaml"), *(ROOT / "deploy").rglob("*.yml")]
    assert not [p for p in every_yaml if re.search(r"^kind:\s*Secret\s*$", p.read_text(), re.M)]
    created = set()
    for namespace, name, sources in re.findall(
        r"kubectl -n (\S+) create secret generic (\S+)((?: --from-file=\S+)+)", GUIDE.read_text()
    ):
        created |= {
            (namespace, name, key) for key in re.findall(r"--from-file=([^=\s]+)=", sources)
        }
    assert _secret_references() <= created
    # the postgres and redis pods read theirs from files named in their own configuration
    assert {
        ("huiyan", "huiyan-postgres", "superuser-password"),
        ("huiyan", "huiyan-redis", "auth.conf"),
    } <= created


def test_secret_files_are_read_by_the_pod_only() -> None:
    for manifest in _workloads():
        for volume in pod_template(manifest.doc)["spec"].get("volumes") or []:
            if "secret" in volume:
                assert volume["secret"]["defaultMode"] == 0o440, manifest


# --- the network --------------------------------------------------------------------------------


def _network(manifests: list[Manifest]) -> Network:
    return Network(
        [m.doc for m in manifests if m.kind == "NetworkPolicy"],
        {m.name: m.doc["metadata"]["labels"] for m in manifests if m.kind == "Namespace"}
        | {"kube-system": {}, "ingress-nginx": {}, "monitoring": {}},
    )


def _pods() -> dict[str, Pod]:
    """One pod per component, labelled as its template is."""
    return {
        _component(m): Pod(m.namespace, pod_template(m.doc)["metadata"]["labels"])
        for m in _workloads()
    }


DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
INGRESS = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
MONITORING = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
PUBLIC, PRIVATE = Outside("203.0.113.7"), Outside("10.96.0.1")  # a witness; the API server
CLIENTS_OF_POSTGRES = {"web", "dispatcher", "checkpoint", "verify", "migrate", *WORKERS}
CLIENTS_OF_REDIS = {"web", "dispatcher", *WORKERS}
SCRAPED = {"web": 8000, **METRICS_PORTS}
PORTS = [
    (8000, "TCP"), (9101, "TCP"), (9102, "TCP"), (5432, "TCP"), (6379, "TCP"),
    (53, "UDP"), (53, "TCP"), (443, "TCP"),
]  # fmt: skip


def _expected_open() -> set[tuple[str, str, int, str]]:
    expected = {("ingress", "web", 8000, "TCP"), ("checkpoint", "public", 443, "TCP")}
    expected |= {("monitoring", pod, port, "TCP") for pod, port in SCRAPED.items()}
    expected |= {(c, "postgres", 5432, "TCP") for c in CLIENTS_OF_POSTGRES}
    expected |= {(c, "redis", 6379, "TCP") for c in CLIENTS_OF_REDIS}
    expected |= {(c, "dns", 53, p) for c in CLIENTS_OF_POSTGRES for p in ("UDP", "TCP")}
    return expected


def _open_connections(network: Network) -> set[tuple[str, str, int, str]]:
    """Every (source, destination, port, protocol) open from or to huiyan's pods, among them,
    the ingress controller, Prometheus, DNS and two outside addresses."""
    pods = _pods()
    sources = {**pods, "ingress": INGRESS, "monitoring": MONITORING, "public": PUBLIC}
    destinations = {**pods, "dns": DNS, "public": PUBLIC, "private": PRIVATE}
    return {
        (source, destination, port, protocol)
        for source, start in sources.items()
        for destination, end in destinations.items()
        if destination != source and (source in pods or destination in pods)
        for port, protocol in PORTS
        if network.allows(start, end, port, protocol)
    }


def test_exactly_the_connections_huiyan_needs_are_open() -> None:
    assert _open_connections(_network(MANIFESTS)) == _expected_open()


def test_each_namespace_denies_everything_by_default() -> None:
    for namespace in NAMESPACES:
        assert any(
            m.namespace == namespace
            and m.doc["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
            for m in _of_kind("NetworkPolicy")
        ), namespace


SCRAPE_RULE = {
    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
    "ports": [{"protocol": "TCP", "port": 9101}],
}


def sandbox_egress_problems(manifests: list[Manifest]) -> list[str]:
    """Any way out of the workers' namespace but to PostgreSQL, Redis and DNS, and any way in
    but Prometheus's to the metrics port."""
    network, pods = _network(manifests), _pods()
    allowed = {
        ("postgres", 5432, "TCP"),
        ("redis", 6379, "TCP"),
        ("dns", 53, "UDP"),
        ("dns", 53, "TCP"),
    }
    found = []
    for policy in [m for m in manifests if m.kind == "NetworkPolicy" and m.namespace == SANDBOX]:
        if any(rule != SCRAPE_RULE for rule in policy.doc["spec"].get("ingress") or []):
            found.append(f"{policy.name} lets something in")
        for rule in policy.doc["spec"].get("egress") or []:
            if (
                not rule.get("to")
                or not rule.get("ports")
                or any("ipBlock" in peer for peer in rule["to"])
            ):
                found.append(f"{policy.name} opens egress beyond named pods and ports")
    for worker in sorted(WORKERS):
        targets = {**pods, "dns": DNS, "public": PUBLIC, "private": PRIVATE}
        for name, target in targets.items():
            for port, protocol in [*PORTS, (22, "TCP"), (80, "TCP")]:
                if (
                    network.allows(pods[worker], target, port, protocol)
                    and (name, port, protocol) not in allowed
                ):
                    found.append(f"{worker} reaches {name} on {port}/{protocol}")
        sources = {**pods, "ingress": INGRESS, "monitoring": MONITORING, "public": PUBLIC}
        for name, source in sources.items():
            for port, protocol in [*PORTS, (22, "TCP"), (80, "TCP")]:
                scrape = (name, port, protocol) == ("monitoring", 9101, "TCP")
                if not scrape and network.allows(source, pods[worker], port, protocol):
                    found.append(f"{name} reaches {worker} on {port}/{protocol}")
    return found


def test_the_sandbox_reaches_only_postgres_redis_and_dns_and_only_prometheus_reaches_it() -> None:
    assert sandbox_egress_problems(MANIFESTS) == []


# --- the checks catch what they are for --------------------------------------------------------


def _mutated(name: str, change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc = copy.deepcopy(_workload(name).doc)
    change(pod_template(doc)["spec"])
    return doc


def _container(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["containers"][0]


MUTATIONS = {
    "privileged": (
        "web",
        lambda s: _container(s)["securityContext"].update(privileged=True),
        "privileged: web",
    ),
    "misspelt field": (
        "web",
        lambda s: _container(s)["securityContext"].update(readOnlyRootFileSystem=True),
        "'readOnlyRootFileSystem' was unexpected",
    ),
    "escalation allowed": (
        "dispatcher",
        lambda s: _container(s)["securityContext"].pop("allowPrivilegeEscalation"),
        "allowPrivilegeEscalation: dispatcher",
    ),
    "hostPath": (
        "web",
        lambda s: s["volumes"].append({"name": "node", "hostPath": {"path": "/"}}),
        "hostPath volume: node",
    ),
    "added capability": (
        "worker-inference",
        lambda s: _container(s)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        "capabilities: worker adds ['SYS_ADMIN']",
    ),
    "unconfined seccomp": (
        "worker-scoring",
        lambda s: s["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile Unconfined: pod",
    ),
    "unmasked proc on the host's users": (
        "worker-scoring",
        lambda s: s.pop("hostUsers"),
        "procMount: worker",
    ),
    "unmasked proc outside the sandbox": (
        "web",
        lambda s: _container(s)["securityContext"].update(procMount="Unmasked"),
        "procMount: web",
    ),
    "root": ("redis", lambda s: s["securityContext"].update(runAsUser=0), "runAsUser: redis"),
    "writable root": (
        "postgres",
        lambda s: _container(s)["securityContext"].update(readOnlyRootFilesystem=False),
        "postgres: the root filesystem is not read-only",
    ),
    "recursive ownership change": (
        "dispatcher",
        lambda s: s["securityContext"].pop("fsGroupChangePolicy"),
        "pod fsGroupChangePolicy is not OnRootMismatch",
    ),
    "token mounted": (
        "verify",
        lambda s: s.update(automountServiceAccountToken=True),
        "automountServiceAccountToken",
    ),
    "no memory limit": (
        "checkpoint",
        lambda s: _container(s)["resources"]["limits"].pop("memory"),
        "contest: no limits for ['memory']",
    ),
    "unmasked proc in the schema check": (
        "worker-inference",
        lambda s: s["initContainers"][0]["securityContext"].update(procMount="Unmasked"),
        "schema: procMount is not Default",
    ),
    "a writable root in the schema check": (
        "web",
        lambda s: s["initContainers"][0]["securityContext"].pop("readOnlyRootFilesystem"),
        "schema: the root filesystem is not read-only",
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_mutated_pod_is_caught(mutation: str) -> None:
    name, change, expected = MUTATIONS[mutation]
    problems = pod_problems(_mutated(name, change))
    assert [p for p in problems if expected in p], problems


def _mount(spec: dict[str, Any], path: str) -> dict[str, Any]:
    (mount,) = [m for m in _container(spec)["volumeMounts"] if m["mountPath"] == path]
    return mount


def _claim(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (volume,) = [v for v in spec["volumes"] if v["name"] == name]
    return volume["persistentVolumeClaim"]


VERIFY_MUTATIONS = {
    "the home writable": (
        lambda s: _mount(s, HOME).pop("readOnly"),
        "contest: /var/lib/huiyan is writable",
    ),
    "the keys' claim writable": (
        lambda s: _claim(s, "keys").pop("readOnly"),
        "claim huiyan-keys is writable",
    ),
    "the home's claim read-only": (
        lambda s: _claim(s, "home").update(readOnly=True),
        "contest: its record is not writable",
    ),
    "the record read-only": (
        lambda s: _mount(s, RECORD).update(readOnly=True),
        "contest: its record is not writable",
    ),
    "the ledger key": (
        lambda s: _container(s)["env"].append({"name": "HUIYAN_LEDGER_KEY", "value": "/k.pem"}),
        "contest: holds the ledger key",
    ),
    "no record": (
        lambda s: _container(s)["command"].remove("--record"),
        "contest: its verdict is not recorded",
    ),
}


@pytest.mark.parametrize("mutation", VERIFY_MUTATIONS)
def test_a_verification_that_writes_more_or_signs_is_caught(mutation: str) -> None:
    change, expected = VERIFY_MUTATIONS[mutation]
    problems = verification_problems(_mutated("verify", change))
    assert expected in problems, problems


def test_a_policy_that_lets_the_sandbox_out_is_caught() -> None:
    redis = next(m for m in _of_kind("NetworkPolicy") if m.name == "workers-to-redis")
    leak = copy.deepcopy(redis.doc)
    leak["metadata"]["name"] = "leak"
    leak["spec"]["egress"].append(
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    )
    problems = sandbox_egress_problems([*MANIFESTS, Manifest(redis.path, leak)])
    assert "leak opens egress beyond named pods and ports" in problems
    assert "worker-scoring reaches public on 443/TCP" in problems
    assert "worker-inference reaches private on 443/TCP" in problems


def test_a_policy_that_lets_more_into_the_sandbox_is_caught() -> None:
    scrape = next(m for m in _of_kind("NetworkPolicy") if m.name == "workers-from-monitoring")
    wide = copy.deepcopy(scrape.doc)
    wide["spec"]["ingress"][0].pop("ports")
    problems = sandbox_egress_problems(
        [m for m in MANIFESTS if m is not scrape] + [Manifest(scrape.path, wide)]
    )
    assert "workers-from-monitoring lets something in" in problems
    assert "monitoring reaches worker-inference on 22/TCP" in problems
    assert "monitoring reaches worker-scoring on 9102/TCP" in problems


def test_a_policy_missing_on_one_side_closes_the_path() -> None:
    without = [
        m for m in MANIFESTS if not (m.kind == "NetworkPolicy" and m.name == "workers-to-postgres")
    ]
    closed = _expected_open() - _open_connections(_network(without))
    assert closed == {
        ("worker-scoring", "postgres", 5432, "TCP"),
        ("worker-inference", "postgres", 5432, "TCP"),
    }
