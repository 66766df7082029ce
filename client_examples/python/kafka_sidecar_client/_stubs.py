"""The generated gRPC stubs, from client_examples/python/generated/ (made by
setup.sh, not committed)."""
import os
import sys

_GENERATED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "generated")
if os.path.isdir(_GENERATED) and _GENERATED not in sys.path:
    sys.path.insert(0, _GENERATED)

try:
    from kafka_sidecar.v1 import sidecar_pb2 as pb  # noqa: E402
    from kafka_sidecar.v1 import sidecar_pb2_grpc as pb_grpc  # noqa: E402
except ImportError as e:  # pragma: no cover - a setup problem, not a code path
    raise ImportError(
        f"kafka-sidecar stubs not found in {_GENERATED}: run client_examples/python/setup.sh ({e})"
    ) from e

__all__ = ["pb", "pb_grpc"]
