'use strict';
// Loads the ConsumerSidecar service from sidecar.proto at run time, so there
// is no generated code to keep in step with the proto.

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { defaultProtoPath } = require('./proto_path');

function loadService(protoPath = defaultProtoPath()) {
  const definition = protoLoader.loadSync(protoPath, {
    // uint64 batch ids must survive the round trip exactly; Numbers would not.
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    keepCase: true,
  });
  return grpc.loadPackageDefinition(definition).kafka_sidecar.v1;
}

module.exports = { loadService, defaultProtoPath };
