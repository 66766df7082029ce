#!/usr/bin/env python3
"""Checks docker-compose.yml, the Dockerfiles and deploy/compose/sidecar.yaml
against each other and against the sidecar they run:

  - the sidecar config passes `kafka-sidecar --validate`;
  - the compose file parses (`docker-compose config`, when installed);
  - the config is mounted where the image's ENTRYPOINT reads it;
  - the gRPC and HTTP ports the config listens on are the ones published,
    EXPOSEd, health-checked (/healthz) and dialled by the handler, and the
    listeners bind 0.0.0.0 so other containers reach them;
  - the sidecar's bootstrap server is the kafka service's advertised
    listener, and its topic and dead-letter topic are created by the
    one-shot topics service;
  - every depends_on waits on a condition.

usage: check_compose.py KAFKA_SIDECAR_BINARY [REPO_ROOT]
Exits 1 with one line per problem on stderr.
"""
import os
import re
import shutil
import subprocess
import sys

import yaml

errors = []


def fail(message):
    errors.append(message)


def host_port(listen, key):
    m = re.fullmatch(r"(.*):(\d+)", listen or "")
    if not m:
        fail(f"{key}: expected host:port, got {listen!r}")
        return None, None
    return m.group(1), int(m.group(2))


def dockerfile_instructions(path):
    """(instruction, arguments) with continuation lines joined."""
    text = open(path).read().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def main():
    binary = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    compose_path = os.path.join(root, "docker-compose.yml")
    config_rel = "deploy/compose/sidecar.yaml"
    config_path = os.path.join(root, config_rel)

    validate = subprocess.run([binary, "--validate", "--config", config_path],
                              capture_output=True, text=True)
    if validate.returncode != 0:
        fail(f"{config_rel}: kafka-sidecar --validate failed: "
             f"{(validate.stdout + validate.stderr).strip()}")
        return
    effective = yaml.safe_load(subprocess.run(
        [binary, "--print-config", "--config", config_path],
        capture_output=True, text=True, check=True).stdout)

    compose_bin = shutil.which("docker-compose")
    if compose_bin:
        parsed = subprocess.run([compose_bin, "-f", compose_path, "config", "--quiet"],
                                capture_output=True, text=True, cwd=root)
        if parsed.returncode != 0:
            fail(f"docker-compose config: {parsed.stderr.strip()}")
    else:
        print("note: docker-compose not installed; checked the file with PyYAML only")

    compose = yaml.safe_load(open(compose_path))
    services = compose.get("services", {})
    for name in ("kafka", "topics", "sidecar", "handler"):
        if name not in services:
            fail(f"docker-compose.yml: no service {name!r}")
    if errors:
        return
    sidecar, handler, kafka = services["sidecar"], services["handler"], services["kafka"]

    # Where the image reads its config, from the Dockerfile the service builds.
    dockerfile = os.path.join(root, sidecar.get("build", {}).get("context", "."),
                              sidecar.get("build", {}).get("dockerfile", "Dockerfile"))
    instructions = dockerfile_instructions(dockerfile)
    entry = [args for word, args in instructions if word == "ENTRYPOINT"]
    config_in_image = None
    if entry:
        argv = yaml.safe_load(entry[-1])
        if isinstance(argv, list) and "--config" in argv:
            config_in_image = argv[argv.index("--config") + 1]
    if config_in_image is None:
        fail("Dockerfile: ENTRYPOINT has no --config FILE")
    mounts = {}
    for volume in sidecar.get("volumes", []):
        source, _, rest = volume.partition(":")
        mounts[rest.split(":")[0]] = os.path.normpath(source)
    if mounts.get(config_in_image) != os.path.normpath("./" + config_rel):
        fail(f"docker-compose.yml: sidecar must mount ./{config_rel} at {config_in_image} "
             f"(mounts: {mounts})")

    grpc_host, grpc_port = host_port(effective["server"]["grpc_listen"], "server.grpc_listen")
    http_host, http_port = host_port(effective["server"]["http_listen"], "server.http_listen")
    for key, host in (("server.grpc_listen", grpc_host), ("server.http_listen", http_host)):
        if host not in ("0.0.0.0", "[::]", ""):
            fail(f"{config_rel}: {key} binds {host!r}: other containers cannot reach it")

    published = {int(str(p).split(":")[-1]) for p in sidecar.get("ports", [])}
    exposed = {int(p.split("/")[0]) for word, args in instructions if word == "EXPOSE"
               for p in args.split()}
    for port, what in ((grpc_port, "gRPC"), (http_port, "HTTP")):
        if port not in published:
            fail(f"docker-compose.yml: sidecar does not publish the {what} port {port}")
        if port not in exposed:
            fail(f"Dockerfile: does not EXPOSE the {what} port {port}")

    healthz = f"127.0.0.1:{http_port}/healthz"
    checks = {"docker-compose.yml sidecar healthcheck": " ".join(
        sidecar.get("healthcheck", {}).get("test", []))}
    checks["Dockerfile HEALTHCHECK"] = " ".join(
        args for word, args in instructions if word == "HEALTHCHECK")
    for where, test in checks.items():
        if healthz not in test:
            fail(f"{where}: does not check {healthz} ({test!r})")

    address = handler.get("environment", {}).get("SIDECAR_ADDRESS")
    if address != f"sidecar:{grpc_port}":
        fail(f"docker-compose.yml: handler SIDECAR_ADDRESS is {address!r}, "
             f"the sidecar listens on sidecar:{grpc_port}")

    advertised = kafka.get("environment", {}).get("KAFKA_ADVERTISED_LISTENERS", "")
    bootstrap = effective["kafka"]["bootstrap_servers"]
    if f"://{bootstrap}" not in advertised:
        fail(f"{config_rel}: kafka.bootstrap_servers {bootstrap!r} is not the kafka service's "
             f"advertised listener ({advertised!r})")
    created = set(re.findall(r"--topic\s+(\S+)", " ".join(
        services["topics"].get("command", []) if isinstance(services["topics"].get("command"), list)
        else [str(services["topics"].get("command", ""))])))
    wanted = set(effective["kafka"]["topics"])
    if effective["processing"].get("dead_letter_topic"):
        wanted.add(effective["processing"]["dead_letter_topic"])
    if not wanted <= created:
        fail(f"docker-compose.yml: topics service creates {sorted(created)}, "
             f"the sidecar needs {sorted(wanted)}")

    for name, service in services.items():
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            fail(f"docker-compose.yml: {name} depends_on without conditions")
        for dep, spec in (depends.items() if isinstance(depends, dict) else []):
            if not isinstance(spec, dict) or "condition" not in spec:
                fail(f"docker-compose.yml: {name} depends_on {dep} without a condition")


if __name__ == "__main__":
    main()
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print("compose deployment consistent")
    sys.exit(1 if errors else 0)
