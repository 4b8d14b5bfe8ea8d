#!/usr/bin/env python3
"""Checks the deployment files for what running them under podman (deploy/containers.sh) cannot show: they parse,
and carry what this project relies on, including the Kubernetes kinds podman does not implement (Service,
Ingress, PodDisruptionBudget). Exits non-zero with one line per problem. Run by .ci/run."""
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent
problems = []


def need(condition, message):
    if not condition:
        problems.append(message)


def check_compose(path):
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services", {})
    for name in ("redis", "gateway-a", "gateway-b", "mobile-api", "nginx"):
        need(name in services, f"{path.name}: service {name} missing")
    for name in ("gateway-a", "gateway-b", "mobile-api"):
        svc = services.get(name, {})
        env = svc.get("environment", {})
        need("REDIS_URL" in env and "QRL_SIGNING_SECRET" in env, f"{path.name}: {name} lacks Redis or signing secret")
        need(svc.get("read_only") is True, f"{path.name}: {name} should run read-only")


def check_k8s(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    kinds = {}
    for doc in docs:
        for key in ("apiVersion", "kind", "metadata"):
            need(key in doc, f"{path.name}: a document lacks {key}")
        kinds.setdefault(doc.get("kind"), []).append(doc)
    for kind in ("Deployment", "Service", "Ingress", "PodDisruptionBudget", "ConfigMap"):
        need(kind in kinds, f"{path.name}: no {kind}")
    for dep in kinds.get("Deployment", []):
        name = dep["metadata"]["name"]
        spec = dep["spec"]["template"]["spec"]
        need(dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(),
             f"{path.name}: {name} selector does not match its pod labels")
        for c in spec["containers"]:
            need("readinessProbe" in c and "livenessProbe" in c, f"{path.name}: {name} lacks probes")
            need("requests" in c.get("resources", {}), f"{path.name}: {name} lacks resource requests")
            secret_env = [e for e in c.get("env", []) if "valueFrom" in e]
            need(any(e["name"] == "QRL_SIGNING_SECRET" for e in secret_env),
                 f"{path.name}: {name} must take QRL_SIGNING_SECRET from a Secret")


check_compose(ROOT / "container" / "compose.yaml")
check_k8s(ROOT / "k8s" / "qrlogin.yaml")
containerfile = (ROOT / "container" / "Containerfile").read_text()
need("USER 10001" in containerfile and "HEALTHCHECK" in containerfile, "Containerfile: non-root user and healthcheck")

for p in problems:
    print(f"deploy check: {p}")
print(f"deploy check: {'FAILED' if problems else 'ok'} (compose, kubernetes, container file)")
sys.exit(1 if problems else 0)
