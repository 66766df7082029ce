#!/usr/bin/env python3
"""Generates the gRPC stubs committed in kafka_sidecar_client/_proto/ from
proto/kafka_sidecar/v1/sidecar.proto, or with --check fails when they differ
from what the pinned grpcio-tools (client_examples/python/setup.sh) makes.

The stubs are committed so the package builds with setuptools alone and a
user needs no protoc. grpc_tools writes an absolute import of the message
module (`from kafka_sidecar.v1 import sidecar_pb2`), which would need a
top-level `kafka_sidecar` package; it is rewritten to a relative one so the
stubs live inside kafka_sidecar_client. The descriptor keeps the proto's own
file name, kafka_sidecar/v1/sidecar.proto.

    generate_stubs.py            rewrite the committed stubs
    generate_stubs.py --check    exit 1 if they are stale
"""
import argparse
import pathlib
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = HERE.parent.parent / "proto"
PROTO = "kafka_sidecar/v1/sidecar.proto"
OUT = HERE / "kafka_sidecar_client" / "_proto"
FILES = ("sidecar_pb2.py", "sidecar_pb2.pyi", "sidecar_pb2_grpc.py")
ABSOLUTE_IMPORT = "from kafka_sidecar.v1 import sidecar_pb2 as"
RELATIVE_IMPORT = "from . import sidecar_pb2 as"


def generate() -> dict:
    """File name -> text, as they belong in _proto/."""
    with tempfile.TemporaryDirectory() as tmp:
        rc = protoc.main([
            "grpc_tools.protoc", f"-I{PROTO_ROOT}",
            f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}",
            str(PROTO_ROOT / PROTO),
        ])
        if rc != 0:
            sys.exit(f"protoc failed ({rc}) on {PROTO_ROOT / PROTO}")
        made = pathlib.Path(tmp) / "kafka_sidecar" / "v1"
        files = {name: (made / name).read_text() for name in FILES}
    grpc_stub = files["sidecar_pb2_grpc.py"]
    if grpc_stub.count(ABSOLUTE_IMPORT) != 1:
        sys.exit(f"sidecar_pb2_grpc.py: expected one '{ABSOLUTE_IMPORT}' line; "
                 "the grpc_tools output changed, adjust tools/generate_stubs.py")
    files["sidecar_pb2_grpc.py"] = grpc_stub.replace(ABSOLUTE_IMPORT, RELATIVE_IMPORT)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed stubs instead of writing them")
    args = parser.parse_args()
    files = generate()
    if args.check:
        stale = [name for name, text in files.items()
                 if not (OUT / name).is_file() or (OUT / name).read_text() != text]
        if stale:
            print(f"stale stubs in {OUT}: {', '.join(stale)}; run "
                  "client_examples/python/setup.sh, then "
                  ".venv/bin/python3 client_examples/python/tools/generate_stubs.py",
                  file=sys.stderr)
            return 1
        print(f"stubs in {OUT} are current")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text)
    print(f"wrote {', '.join(FILES)} into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
