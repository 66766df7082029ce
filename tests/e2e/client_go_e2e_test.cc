// The Go example handler (client_examples/go) against the real sidecar and
// broker: the shared client-example scenario.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace kafka_sidecar::testing {
namespace {

// The Go toolchain: where the Go distribution installs it, else on PATH.
std::string FindGo() {
  std::vector<std::string> candidates = {"/usr/local/go/bin/go"};
  if (const char* path = std::getenv("PATH")) {
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      if (!dir.empty()) candidates.push_back(std::string(dir) + "/go");
    }
  }
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

class ClientGoE2eTest : public ClientExampleE2eTest {};

TEST_F(ClientGoE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  const std::string module = RepoRoot() + "/client_examples/go";
  const std::string stubs = module + "/gen/sidecarv1/sidecar_grpc.pb.go";
  ASSERT_EQ(::access(stubs.c_str(), R_OK), 0)
      << stubs << " missing: run client_examples/go/setup.sh";
  const std::string go = FindGo();
  ASSERT_FALSE(go.empty()) << "go not found in /usr/local/go/bin or on PATH";

  // Built from the current source rather than setup.sh's bin/, so the test
  // never runs a stale binary; Go's build cache keeps this quick.
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("client-go");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string binary = (*dir)->File("example-handler");
  const std::string build_log = (*dir)->File("go-build.log");
  absl::StatusOr<std::unique_ptr<Subprocess>> build = Subprocess::Spawn(
      {go, "-C", module, "build", "-o", binary, "./cmd/example-handler"}, build_log);
  ASSERT_TRUE(build.ok()) << build.status();
  absl::StatusOr<int> built = (*build)->Wait(absl::Minutes(5));
  ASSERT_TRUE(built.ok()) << "go build: " << built.status();
  ASSERT_EQ(*built, 0) << "go build failed:\n" << ReadFile(build_log);

  RunScenario("go", {binary});
}

}  // namespace
}  // namespace kafka_sidecar::testing
