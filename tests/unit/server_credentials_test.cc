#include "sidecar/server/server_credentials.h"

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

class ServerCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/server-credentials-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }
  std::string dir_;
};

TEST_F(ServerCredentialsTest, ReadsPem) {
  const std::string path = Write("cert.pem", kPem);
  absl::StatusOr<std::string> pem = ReadPemFile("server.tls.cert_file", path);
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(*pem, kPem);
}

TEST_F(ServerCredentialsTest, MissingFileNamesKeyPathAndReason) {
  const std::string path = dir_ + "/nope.pem";
  absl::StatusOr<std::string> pem = ReadPemFile("server.tls.cert_file", path);
  EXPECT_EQ(pem.status().message(),
            "server.tls.cert_file: cannot read " + path + ": No such file or directory");
}

TEST_F(ServerCredentialsTest, DirectoryIsNotReadable) {
  absl::StatusOr<std::string> pem = ReadPemFile("server.tls.key_file", dir_);
  EXPECT_EQ(pem.status().message(),
            "server.tls.key_file: cannot read " + dir_ + ": Is a directory");
}

TEST_F(ServerCredentialsTest, NonPemIsRejectedWithoutShowingTheContents) {
  const std::string path = Write("key.der", "secret-key-bytes");
  absl::StatusOr<std::string> pem = ReadPemFile("server.tls.key_file", path);
  ASSERT_FALSE(pem.ok());
  EXPECT_TRUE(absl::StartsWith(pem.status().message(),
                               "server.tls.key_file: " + path + " is not a PEM file"))
      << pem.status();
  EXPECT_FALSE(absl::StrContains(pem.status().message(), "secret-key-bytes"));
}

TEST_F(ServerCredentialsTest, NoCertificateMeansPlaintext) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      MakeServerCredentials(TlsConfig{});
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_NE(*creds, nullptr);
}

TEST_F(ServerCredentialsTest, EachFileIsCheckedUnderItsOwnKey) {
  TlsConfig tls;
  tls.cert_file = Write("cert.pem", kPem);
  tls.key_file = dir_ + "/missing-key.pem";
  EXPECT_TRUE(absl::StartsWith(MakeServerCredentials(tls).status().message(),
                               "server.tls.key_file: cannot read"));

  tls.key_file = Write("key.pem", kPem);
  tls.client_ca_file = dir_ + "/missing-ca.pem";
  EXPECT_TRUE(absl::StartsWith(MakeServerCredentials(tls).status().message(),
                               "server.tls.client_ca_file: cannot read"));

  tls.client_ca_file = Write("ca.pem", kPem);
  EXPECT_TRUE(MakeServerCredentials(tls).ok());
}

}  // namespace
}  // namespace kafka_sidecar
