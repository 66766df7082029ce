"""The generated protobuf messages (pb) and gRPC stubs (pb_grpc)."""
from ._proto import sidecar_pb2 as pb
from ._proto import sidecar_pb2_grpc as pb_grpc

__all__ = ["pb", "pb_grpc"]
