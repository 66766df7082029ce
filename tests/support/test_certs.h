// Throw-away certificates for TLS and mTLS tests, made with the openssl
// command-line tool: a CA, a server certificate for 127.0.0.1 / localhost and
// client certificates it signed (a handler's and an operator's), plus a
// second CA and a client certificate from it (one the sidecar must refuse).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace kafka_sidecar::testing {

// Paths of PEM files.
struct TestCerts {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;
  std::string other_client_cert;  // signed by other_ca_cert
  std::string other_client_key;
  // Signed by ca_cert, CN e2e-operator, SANs DNS:operator.e2e.test and
  // URI:spiffe://e2e/operator: a second client identity.
  std::string operator_client_cert;
  std::string operator_client_key;
};

// Writes the files into `dir`; the error carries openssl's output.
absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir);

// TLS channel credentials trusting `ca_cert`, presenting `client_cert` /
// `client_key` when both are given. Paths of PEM files.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsClientCredentials(
    const std::string& ca_cert, const std::string& client_cert = "",
    const std::string& client_key = "");

}  // namespace kafka_sidecar::testing
