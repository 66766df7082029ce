#!/usr/bin/env python3
"""Checks the Kubernetes manifests against the sidecar they deploy.

The sidecar's config in the ConfigMap must pass `kafka-sidecar --validate`,
and every path and port the Deployment uses must be the one that config
names: the probes hit the HTTP endpoint's port and real paths, the handler
dials the socket the sidecar listens on, on a volume both containers mount,
and the grace period outlasts the drain.

usage: check_manifests.py KAFKA_SIDECAR_BINARY MANIFEST_DIR
"""
import os
import subprocess
import sys
import tempfile

import yaml


def fail(message):
    print(f"check_manifests: {message}", file=sys.stderr)
    sys.exit(1)


def load(directory):
    docs = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yaml"):
            with open(os.path.join(directory, name)) as f:
                docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


def main():
    binary, directory = sys.argv[1], sys.argv[2]
    docs = load(directory)
    kinds = {d["kind"]: d for d in docs}
    for kind in ("ConfigMap", "Deployment", "Kustomization"):
        if kind not in kinds:
            fail(f"no {kind} in {directory}")
    for resource in kinds["Kustomization"]["resources"]:
        if not os.path.exists(os.path.join(directory, resource)):
            fail(f"kustomization names {resource}, which does not exist")

    config_text = kinds["ConfigMap"]["data"]["sidecar.yaml"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(config_text)
        f.flush()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_SIDECAR_")}
        result = subprocess.run([binary, "--validate", "--config", f.name],
                                capture_output=True, text=True, env=env)
        if result.returncode != 0:
            fail(f"ConfigMap sidecar.yaml is invalid: {result.stdout}{result.stderr}")
    config = yaml.safe_load(config_text)
    server = config["server"]
    processing = config.get("processing", {})

    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    sidecars = [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    if len(sidecars) != 1:
        fail("expected the sidecar as one init container with restartPolicy: Always")
    sidecar = sidecars[0]
    handlers = pod["containers"]

    # The config file is where --config says, from the ConfigMap's volume.
    args = sidecar.get("args", [])
    config_path = args[args.index("--config") + 1]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in sidecar["volumeMounts"]}
    config_dir = os.path.dirname(config_path)
    if config_dir not in mounts or "configMap" not in volumes[mounts[config_dir]]:
        fail(f"--config {config_path} is not on a ConfigMap volume")
    if volumes[mounts[config_dir]]["configMap"]["name"] != kinds["ConfigMap"]["metadata"]["name"]:
        fail("the config volume names another ConfigMap")
    if os.path.basename(config_path) not in kinds["ConfigMap"]["data"]:
        fail(f"the ConfigMap has no key {os.path.basename(config_path)}")

    # The socket: on an emptyDir both containers mount (directly in it, or in
    # the subdirectory the sidecar creates there), and what the handler dials.
    listen = server["grpc_listen"]
    if not listen.startswith("unix:"):
        fail(f"grpc_listen is {listen}, expected a unix socket")
    socket_dir = os.path.dirname(listen[len("unix:"):])
    if socket_dir not in mounts:
        socket_dir = os.path.dirname(socket_dir)
    if socket_dir not in mounts or "emptyDir" not in volumes[mounts[socket_dir]]:
        fail(f"the sidecar's socket directory {socket_dir} is not (in) an emptyDir mount")
    for handler in handlers:
        handler_mounts = {m["mountPath"]: m["name"] for m in handler.get("volumeMounts", [])}
        if handler_mounts.get(socket_dir) != mounts[socket_dir]:
            fail(f"container {handler['name']} does not mount the socket volume at {socket_dir}")
        address = {e["name"]: e.get("value") for e in handler.get("env", [])}.get("SIDECAR_ADDRESS")
        if address != listen:
            fail(f"container {handler['name']} dials {address}, the sidecar listens on {listen}")

    # Probes: the HTTP endpoint's port and its real paths.
    http_port = int(server["http_listen"].rsplit(":", 1)[1])
    if not server["http_listen"].startswith(("0.0.0.0:", "[::]:")):
        fail("http_listen must accept the kubelet's probes from outside the pod's loopback")
    ports = {p["name"]: p["containerPort"] for p in sidecar.get("ports", [])}
    wanted = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in wanted.items():
        get = sidecar.get(probe, {}).get("httpGet")
        if get is None or get["path"] != path:
            fail(f"{probe} must GET {path}")
        port = ports.get(get["port"], get["port"])
        if port != http_port:
            fail(f"{probe} uses port {port}, http_listen is on {http_port}")

    # The grace period lets the drain and the final commit finish.
    drain_s = processing.get("drain_timeout_ms", 15000) / 1000
    revoke_s = processing.get("revoke_timeout_ms", 10000) / 1000
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= drain_s + revoke_s:
        fail(f"terminationGracePeriodSeconds {grace} does not outlast drain {drain_s}s + "
             f"final commit {revoke_s}s")
    for c in [sidecar] + handlers:
        if "limits" not in c.get("resources", {}) or "requests" not in c.get("resources", {}):
            fail(f"container {c['name']} has no resource requests and limits")
    print(f"check_manifests: {directory} matches the sidecar's config")


if __name__ == "__main__":
    main()
