// gRPC server credentials from the `server.tls` section: plaintext when no
// certificate is configured, TLS with one, mutual TLS with a client CA.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sidecar/config/config.h"

namespace kafka_sidecar {

// The contents of a PEM file, or an error naming the config `key`, the path
// and the reason. Never puts file contents in an error: it may be a key.
absl::StatusOr<std::string> ReadPemFile(absl::string_view key, const std::string& path);

// Reads the files `tls` names (server.tls.cert_file, key_file,
// client_ca_file); with a client CA, clients must present a certificate it
// signed.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsConfig& tls);

}  // namespace kafka_sidecar
