#include "test_certs.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "subprocess.h"

namespace kafka_sidecar::testing {
namespace {

// Explicit extensions instead of the system openssl.cnf, whose defaults
// differ between distributions: gRPC's verifier needs CA:TRUE on the CAs and
// a SAN matching the address the client dials.
constexpr char kOpensslConfig[] = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[operator_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:operator.e2e.test, URI:spiffe://e2e/operator
)";

absl::Status Openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  const std::string log = absl::StrCat(dir, "/openssl.log");
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Spawn(args, log);
  if (!p.ok()) return p.status();
  absl::StatusOr<int> code = (*p)->Wait(absl::Seconds(60));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(args, " "), " exited with ", *code,
                                            ":\n", ReadFile(log)));
  }
  return absl::OkStatus();
}

absl::Status MakeCa(const std::string& dir, const std::string& config, const std::string& name) {
  return Openssl(dir, {"req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-config",
                       config, "-extensions", "ca_ext", "-subj", "/CN=" + name, "-keyout",
                       dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem"});
}

absl::Status MakeLeaf(const std::string& dir, const std::string& config, const std::string& ca,
                      const std::string& name, const std::string& cn,
                      const std::string& extensions) {
  const std::string base = dir + "/" + name;
  if (absl::Status s = Openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:prime256v1", "-nodes", "-config",
                                     config, "-subj", "/CN=" + cn, "-keyout", base + ".key",
                                     "-out", base + ".csr"});
      !s.ok()) {
    return s;
  }
  return Openssl(dir, {"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".pem",
                       "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-days", "2",
                       "-extfile", config, "-extensions", extensions, "-out", base + ".pem"});
}

absl::StatusOr<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir) {
  const std::string config = dir + "/openssl.cnf";
  {
    std::ofstream out(config);
    out << kOpensslConfig;
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", config));
  }
  for (absl::Status s : {MakeCa(dir, config, "ca"), MakeCa(dir, config, "other-ca")}) {
    if (!s.ok()) return s;
  }
  struct Leaf {
    const char* ca;
    const char* name;
    const char* cn;
    const char* extensions;
  };
  for (const Leaf& leaf : {Leaf{"ca", "server", "localhost", "server_ext"},
                           Leaf{"ca", "client", "e2e-handler", "client_ext"},
                           Leaf{"ca", "operator-client", "e2e-operator", "operator_ext"},
                           Leaf{"other-ca", "other-client", "intruder", "client_ext"}}) {
    if (absl::Status s = MakeLeaf(dir, config, leaf.ca, leaf.name, leaf.cn, leaf.extensions);
        !s.ok()) {
      return s;
    }
  }
  TestCerts certs;
  certs.ca_cert = dir + "/ca.pem";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server.key";
  certs.client_cert = dir + "/client.pem";
  certs.client_key = dir + "/client.key";
  certs.other_ca_cert = dir + "/other-ca.pem";
  certs.other_client_cert = dir + "/other-client.pem";
  certs.other_client_key = dir + "/other-client.key";
  certs.operator_client_cert = dir + "/operator-client.pem";
  certs.operator_client_key = dir + "/operator-client.key";
  return certs;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsClientCredentials(
    const std::string& ca_cert, const std::string& client_cert, const std::string& client_key) {
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = Slurp(ca_cert);
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!client_cert.empty() && !client_key.empty()) {
    absl::StatusOr<std::string> cert = Slurp(client_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = Slurp(client_key);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace kafka_sidecar::testing
