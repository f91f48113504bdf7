"""NetworkPolicies evaluated offline: may this pod open a connection to that one (or to an
address outside the cluster) on this port?

The rules are the API's own (networking.k8s.io/v1): a pod selected by no policy of a type is
open in that direction; once selected, only what some rule of a selecting policy allows gets
through; a connection needs the source's egress and the destination's ingress. Named ports
and endPort ranges are not used by huiyan's manifests and are refused here rather than
guessed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Spec = dict[str, Any]


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outside:
    """An address that is no pod of the cluster."""

    address: str


Endpoint = Pod | Outside


def matches(selector: Spec, labels: dict[str, str]) -> bool:
    """A LabelSelector: matchLabels and matchExpressions, all of them; {} matches everything."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if not {
            "In": present and labels.get(key) in (values or []),
            "NotIn": not present or labels.get(key) not in (values or []),
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


class Network:
    def __init__(self, policies: list[Spec], namespaces: dict[str, dict[str, str]]) -> None:
        """``namespaces``: each namespace's labels (kubernetes.io/metadata.name is added, as the
        API server does)."""
        self.policies = policies
        self.namespaces = {
            name: {**labels, "kubernetes.io/metadata.name": name}
            for name, labels in namespaces.items()
        }

    def allows(
        self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP"
    ) -> bool:
        egress = not isinstance(source, Pod) or self._admits(
            source, destination, port, protocol, "Egress"
        )
        ingress = not isinstance(destination, Pod) or self._admits(
            destination, source, port, protocol, "Ingress"
        )
        return egress and ingress

    def _admits(self, pod: Pod, peer: Endpoint, port: int, protocol: str, direction: str) -> bool:
        selecting = [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == pod.namespace
            and direction in _types(p["spec"])
            and matches(p["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        return any(
            _port_matches(rule.get("ports"), port, protocol)
            and (
                not rule.get(peers_key)
                or any(self._peer_matches(pod, p, peer) for p in rule[peers_key])
            )
            for policy in selecting
            for rule in policy["spec"].get(key) or []
        )

    def _peer_matches(self, pod: Pod, peer_spec: Spec, peer: Endpoint) -> bool:
        if "ipBlock" in peer_spec:
            return isinstance(peer, Outside) and _in_block(peer.address, peer_spec["ipBlock"])
        if not isinstance(peer, Pod):
            return False
        if "namespaceSelector" in peer_spec:
            labels = self.namespaces.get(peer.namespace, {})
            if not matches(peer_spec["namespaceSelector"], labels):
                return False
        elif peer.namespace != pod.namespace:
            return False
        return matches(peer_spec.get("podSelector") or {}, peer.labels)


def _types(spec: Spec) -> list[str]:
    if "policyTypes" in spec:
        return spec["policyTypes"]
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _port_matches(ports: list[Spec] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if "endPort" in entry or isinstance(entry.get("port"), str):
            raise ValueError(f"named ports and port ranges are not modelled: {entry}")
        if entry.get("protocol", "TCP") == protocol and entry.get("port") in (None, port):
            return True
    return False


def _in_block(address: str, block: Spec) -> bool:
    ip = ipaddress.ip_address(address)
    network = ipaddress.ip_network(block["cidr"])
    if ip.version != network.version or ip not in network:
        return False
    return not any(
        ip in ipaddress.ip_network(e)
        for e in block.get("except") or []
        if ipaddress.ip_network(e).version == ip.version
    )
