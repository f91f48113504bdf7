"""What every huiyan pod must be: valid against the strict schemas, within Pod Security as its
namespace enforces it (`restricted`; `baseline` in huiyan-sandbox, where the one documented
departure from `restricted` is the unmasked /proc of a user-namespaced pod's containers that
run the sandbox, not of its init containers), and within the house's own rules, which go
further (docs/deploy/kubernetes.md)."""

from __future__ import annotations

from typing import Any

from tests.deploy import pod_security
from tests.deploy.manifests import pod_template, schema_problems

SANDBOX = "huiyan-sandbox"
UID = 10001
SANDBOX_SECCOMP = {"type": "Localhost", "localhostProfile": "profiles/huiyan-sandbox.json"}
SANDBOX_APPARMOR = {"type": "Localhost", "localhostProfile": "huiyan-sandbox"}


def pod_problems(doc: dict[str, Any]) -> list[str]:
    """Everything wrong with one workload: its schema, Pod Security as its namespace enforces
    it, and the house's rules. Empty for a good one."""
    template = pod_template(doc)
    spec, annotations = template["spec"], template["metadata"].get("annotations") or {}
    namespace = doc["metadata"]["namespace"]
    found = schema_problems(doc)
    if namespace == SANDBOX:
        found += pod_security.problems(spec, annotations, "baseline")
        # the one documented departure from `restricted`, where the sandbox runs, and nothing more
        unmasked = [f"procMount: {c['name']}" for c in spec["containers"]]
        departures = pod_security.problems(spec, annotations, "restricted")
        found += [f"beyond the documented exception: {p}" for p in departures if p not in unmasked]
    else:
        found += pod_security.problems(spec, annotations, "restricted")
    return found + house_problems(spec, sandbox=namespace == SANDBOX)


def house_problems(spec: dict[str, Any], *, sandbox: bool) -> list[str]:
    """huiyan's rules beyond Pod Security: one uid, the runtime's seccomp profile (the sandbox's
    own in huiyan-sandbox), a read-only root with an emptyDir /tmp, no token, sized pods; an
    unmasked /proc only in the sandbox's containers (an init container runs no sandbox)."""
    pod = spec.get("securityContext") or {}
    found = []
    expected = {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        # kubelet's recursive change would give group 10001 every file, master.key included,
        # which huiyan then refuses (ledger/kms.py); only an unprepared volume's root is changed
        "fsGroupChangePolicy": "OnRootMismatch",
    }
    found += [f"pod {k} is not {v}" for k, v in expected.items() if pod.get(k) != v]
    seccomp = SANDBOX_SECCOMP if sandbox else {"type": "RuntimeDefault"}
    if pod.get("seccompProfile") != seccomp:
        found.append(f"pod seccompProfile is not {seccomp}")
    if sandbox and (
        spec.get("hostUsers") is not False or pod.get("appArmorProfile") != SANDBOX_APPARMOR
    ):
        found.append(
            "a sandbox pod needs its own user namespace and the sandbox's AppArmor profile"
        )
    if not sandbox and ("hostUsers" in spec or "appArmorProfile" in pod):
        found.append("only sandbox pods set hostUsers or an AppArmor profile")
    for key, value in {
        "automountServiceAccountToken": False,
        "serviceAccountName": "huiyan",
    }.items():
        if spec.get(key) != value:
            found.append(f"{key} is not {value}")
    empty_dirs = {v["name"] for v in spec.get("volumes") or [] if "emptyDir" in v}
    sandboxing = {c["name"] for c in spec["containers"]} if sandbox else set()
    for container in pod_security.containers(spec):
        name, context = container["name"], container.get("securityContext") or {}
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("readOnlyRootFilesystem") is not True:
            found.append(f"{name}: the root filesystem is not read-only")
        if context.get("capabilities") != {"drop": ["ALL"]}:
            found.append(f"{name}: capabilities are not exactly drop ALL")
        proc = "Unmasked" if name in sandboxing else "Default"
        if context.get("procMount", "Default") != proc:
            found.append(f"{name}: procMount is not {proc}")
        for key in ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "privileged"):
            if key in context:
                found.append(f"{name}: securityContext.{key} overrides the pod's")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
        if mounts.get("/tmp") not in empty_dirs:
            found.append(f"{name}: /tmp is not an emptyDir")
        resources = container.get("resources") or {}
        for bound in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(bound) or {})
            if missing:
                found.append(f"{name}: no {bound} for {sorted(missing)}")
    return found
