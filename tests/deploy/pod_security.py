"""The Pod Security Standards (`baseline`, `restricted`) as Pod Security Admission checks them
at policy version 1.35 and later, applied to a pod template offline.

Written from the admission plugin's checks (k8s.io/pod-security-admission/policy), field by
field, so that a template the cluster would refuse fails here first, with the check's name.
Policy 1.35 matters to huiyan: from it on, `baseline` lets a pod in a user namespace
(``hostUsers: false``) unmask /proc, which the workers' sandbox needs; `restricted` still does
not, and also stops checking runAsNonRoot and runAsUser for such pods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Spec = dict[str, Any]

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
}  # fmt: skip
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
    "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def containers(spec: Spec) -> Iterator[Spec]:
    """Every container PSA looks at: init, regular and ephemeral."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def problems(spec: Spec, annotations: dict[str, str], level: str) -> list[str]:
    """The names of the checks of ``level`` ("baseline" or "restricted") this pod fails, each
    with the container or field at fault."""
    found = _baseline(spec, annotations)
    if level == "restricted":
        found = [p for p in found if not p.startswith("procMount")] + _restricted(spec)
    return found


def _baseline(spec: Spec, annotations: dict[str, str]) -> list[str]:
    pod = spec.get("securityContext") or {}
    in_user_namespace = spec.get("hostUsers") is False
    found = [
        f"host namespaces: {key}" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)
    ]
    if (pod.get("windowsOptions") or {}).get("hostProcess"):
        found.append("hostProcess: pod")
    found += [f"hostPath volume: {v['name']}" for v in spec.get("volumes") or [] if "hostPath" in v]
    found += [
        f"sysctl: {s['name']}" for s in pod.get("sysctls") or [] if s["name"] not in SAFE_SYSCTLS
    ]
    found += _seccomp_not_unconfined("pod", pod)
    found += _apparmor("pod", pod)
    found += _selinux("pod", pod)
    for key, value in annotations.items():
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value in ("", "runtime/default") or value.startswith("localhost/")
        ):
            found.append(f"AppArmor annotation: {key}")
    for container in containers(spec):
        name, context = container["name"], container.get("securityContext") or {}
        if context.get("privileged"):
            found.append(f"privileged: {name}")
        if (context.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"hostProcess: {name}")
        added = set((context.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            found.append(f"capabilities: {name} adds {sorted(added - BASELINE_CAPABILITIES)}")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            found.append(f"hostPort: {name}")
        if context.get("procMount", "Default") != "Default" and not in_user_namespace:
            found.append(f"procMount: {name}")
        found += _seccomp_not_unconfined(name, context)
        found += _apparmor(name, context)
        found += _selinux(name, context)
        for probe in _handlers(container):
            if probe.get("host"):
                found.append(f"probe or hook host: {name}")
    return found


def _restricted(spec: Spec) -> list[str]:
    pod = spec.get("securityContext") or {}
    in_user_namespace = spec.get("hostUsers") is False
    found = [
        f"volume type: {volume['name']}"
        for volume in spec.get("volumes") or []
        if not set(volume) - {"name"} <= RESTRICTED_VOLUMES
    ]
    pod_seccomp = (pod.get("seccompProfile") or {}).get("type")
    for container in containers(spec):
        name, context = container["name"], container.get("securityContext") or {}
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"allowPrivilegeEscalation: {name}")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"capabilities: {name} does not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"capabilities: {name} adds more than NET_BIND_SERVICE")
        seccomp = (context.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"seccompProfile: {name}")
        if context.get("procMount", "Default") != "Default":
            found.append(f"procMount: {name}")
        if not in_user_namespace:
            if context.get("runAsNonRoot") is False or not (
                context.get("runAsNonRoot") or pod.get("runAsNonRoot")
            ):
                found.append(f"runAsNonRoot: {name}")
            if context.get("runAsUser", pod.get("runAsUser")) == 0:
                found.append(f"runAsUser: {name}")
    return found


def _seccomp_not_unconfined(where: str, context: Spec) -> list[str]:
    unconfined = (context.get("seccompProfile") or {}).get("type") == "Unconfined"
    return [f"seccompProfile Unconfined: {where}"] if unconfined else []


def _apparmor(where: str, context: Spec) -> list[str]:
    kind = (context.get("appArmorProfile") or {}).get("type")
    return (
        [f"appArmorProfile: {where}"] if kind not in (None, "RuntimeDefault", "Localhost") else []
    )


def _selinux(where: str, context: Spec) -> list[str]:
    options = context.get("seLinuxOptions") or {}
    allowed = (
        options.get("type", "") in SELINUX_TYPES
        and not options.get("user")
        and not options.get("role")
    )
    return [] if allowed else [f"seLinuxOptions: {where}"]


def _handlers(container: Spec) -> Iterator[Spec]:
    """The HTTP and TCP handlers of a container's probes and lifecycle hooks (their ``host``
    may not be set from policy 1.34 on)."""
    hooks = container.get("lifecycle") or {}
    for holder in [
        *(container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")),
        *(hooks.get(h) for h in ("postStart", "preStop")),
    ]:
        for kind in ("httpGet", "tcpSocket"):
            if holder and kind in holder:
                yield holder[kind]
