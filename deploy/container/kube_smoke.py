#!/usr/bin/env python3
"""Turns deploy/k8s/qrlogin.yaml into what `podman kube play` (podman 4.3) can run on one machine, changing only
what podman lacks or what a smoke test must set: the Deployments, ConfigMap and probes are the manifest's own.

  kube_smoke.py <manifest> <out manifest> <out secret.json> <gateway port> <mobile port> <redis image>

- Service, Ingress and PodDisruptionBudget are left out (podman implements none; check-manifests.py checks them);
  each Deployment runs one pod (podman's limit) published on loopback hostPorts instead of a Service (HTTP
  on the given port, metrics 10 above).
- The Secret `qrlogin` becomes a podman secret (a JSON map of base64 values, as podman reads secretKeyRef),
  with deploy/dev.env's values; the web token key comes from it as QRL_WEB_JWT_PRIVATE_KEY_PEM, because podman
  4.3 crashes on secret volumes.
- A Redis pod (the manifest expects a Redis you provide) and the demo user directory as a ConfigMap volume.
- The ConfigMap points at these, with the development identity provider (HS256) instead of the JWKS URL.
"""
import base64
import json
import pathlib
import sys

import yaml

src, out, secret_out, gateway_port, mobile_port, redis_image = sys.argv[1:7]
root = pathlib.Path(__file__).resolve().parents[2]
dev = dict(
    line.split("=", 1)
    for line in (root / "deploy" / "dev.env").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
docs = [d for d in yaml.safe_load_all(pathlib.Path(src).read_text()) if d]
docs = [d for d in docs if d["kind"] in ("ConfigMap", "Deployment")]

for doc in docs:
    if doc["kind"] == "ConfigMap":
        doc["data"].update(
            QRL_QR_BASE_URL=f"http://127.0.0.1:{gateway_port}",
            QRL_COOKIE_SECURE="false",
            QRL_USER_DIRECTORY_URL="",
            QRL_USER_DIRECTORY_FILE="/etc/qrlogin/users.json",
            QRL_USER_JWT_ALG="HS256",
            QRL_USER_JWKS_URL="",
            QRL_USER_JWT_ISSUER=dev["QRL_USER_JWT_ISSUER"],
            QRL_USER_JWT_AUDIENCE=dev["QRL_USER_JWT_AUDIENCE"],
            QRL_CORS_ORIGINS="",
            QRL_TRUSTED_PROXIES="",
        )
        continue
    doc["spec"]["replicas"] = 1
    pod = doc["spec"]["template"]["spec"]
    container = pod["containers"][0]
    container["image"] = f"localhost/{container['image']}"
    container["imagePullPolicy"] = "IfNotPresent"
    # podman publishes every container port (the metrics one too): each on a loopback port of its own.
    port = int(gateway_port if doc["metadata"]["name"] == "web-gateway" else mobile_port)
    for p in container["ports"]:
        p.update(hostPort=port if p["name"] == "http" else port + 10, hostIP="127.0.0.1")
    env = container.setdefault("env", [])
    if doc["metadata"]["name"] == "web-gateway":
        env[:] = [e for e in env if e["name"] != "QRL_WEB_JWT_PRIVATE_KEY_FILE"]
        env.append({"name": "QRL_WEB_JWT_PRIVATE_KEY_PEM",
                    "valueFrom": {"secretKeyRef": {"name": "qrlogin", "key": "web-jwt-key"}}})
        pod["volumes"] = [{"name": "users", "configMap": {"name": "qrlogin-dev-users"}}]
        container["volumeMounts"] = [{"name": "users", "mountPath": "/etc/qrlogin", "readOnly": True}]
    else:
        env.append({"name": "QRL_USER_JWT_SECRET",
                    "valueFrom": {"secretKeyRef": {"name": "qrlogin", "key": "user-jwt-secret"}}})

docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "qrlogin-dev-users"},
             "data": {"users.json": (root / "deploy" / "dev" / "users.json").read_text()}})
docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis"},
             "spec": {"containers": [{"name": "redis", "image": redis_image, "imagePullPolicy": "IfNotPresent",
                                      "args": ["redis-server", "--protected-mode", "no"]}]}})
pathlib.Path(out).write_text(yaml.safe_dump_all(docs, sort_keys=False))

secret = {
    "redis-url": "redis://redis:6379",
    "signing-secret": dev["QRL_SIGNING_SECRET"],
    "user-jwt-secret": dev["QRL_USER_JWT_SECRET"],
    "web-jwt-key": (root / dev["QRL_WEB_JWT_PRIVATE_KEY_FILE"]).read_text(),
}
pathlib.Path(secret_out).write_text(json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in secret.items()}))
