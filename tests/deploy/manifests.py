"""deploy/k8s read as `kubectl apply -k` would, without kubectl: the kustomization's resources
and components, in order, each YAML document a dict; and checked against the Kubernetes
OpenAPI schemas that kubernetes-validate ships, in strict mode (an unknown field fails).

huiyan's kustomization uses no transformer (tests/deploy/test_kubernetes.py holds it to
that), so the documents in the files are what the cluster receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

# The newest Kubernetes whose schemas kubernetes-validate ships; the manifests need 1.35 or
# later (user-namespaced pods, and Pod Security's relaxation for them).
KUBERNETES_VERSION = "1.37.0"
KUSTOMIZATION = "kustomization.yaml"
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

Doc = dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: Doc

    @property
    def kind(self) -> str:
        return self.doc["kind"]

    @property
    def name(self) -> str:
        return self.doc["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.doc["metadata"].get("namespace")

    def __str__(self) -> str:
        return f"{self.path.name}: {self.kind}/{self.namespace}/{self.name}"


def kustomization(folder: Path) -> Doc:
    return yaml.safe_load((folder / KUSTOMIZATION).read_text())


def listed_files(folder: Path) -> list[Path]:
    """Every file the kustomization in ``folder`` pulls in, through its components and
    sub-folders, in order."""
    spec = kustomization(folder)
    files = []
    for entry in [*(spec.get("resources") or []), *(spec.get("components") or [])]:
        path = (folder / entry).resolve()
        files += listed_files(path) if path.is_dir() else [path]
    return files


def load(folder: Path) -> list[Manifest]:
    return [
        Manifest(path, doc)
        for path in listed_files(folder)
        for doc in yaml.safe_load_all(path.read_text())
        if doc is not None
    ]


def schema_problems(doc: Doc) -> list[str]:
    """What the strict schema of this kind refuses; a kind without a schema is a problem too."""
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        return [f"{where}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [error.message]
    return []


def pod_template(doc: Doc) -> Doc | None:
    """The pod template (metadata and spec) of a workload, or None for other kinds."""
    if doc["kind"] not in POD_TEMPLATE_KINDS:
        return None
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    return spec["template"]
