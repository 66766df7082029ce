// The Go helper (client_examples/go) against the real sidecar and broker: its
// example handler in the shared client-example scenario and the retry
// scenario under both orderings, and the module required by a project outside
// the repository.
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

class ClientGoE2eTest : public ClientExampleE2eTest {
 protected:
  // Built from the current source rather than setup.sh's bin/, so the test
  // never runs a stale binary; Go's build cache keeps this quick.
  std::string BuildExample() {
    const std::string module = RepoRoot() + "/client_examples/go";
    const std::string go = FindGo();
    EXPECT_FALSE(go.empty()) << "go not found in /usr/local/go/bin or on PATH";
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("client-go");
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (go.empty() || !dir.ok()) return "";
    build_dir_ = std::move(*dir);
    const std::string binary = build_dir_->File("example-handler");
    const std::string build_log = build_dir_->File("go-build.log");
    absl::StatusOr<std::unique_ptr<Subprocess>> build = Subprocess::Spawn(
        {go, "-C", module, "build", "-o", binary, "./cmd/example-handler"}, build_log);
    EXPECT_TRUE(build.ok()) << build.status();
    if (!build.ok()) return "";
    absl::StatusOr<int> built = (*build)->Wait(absl::Minutes(5));
    EXPECT_TRUE(built.ok()) << "go build: " << built.status();
    if (!built.ok() || *built != 0) {
      ADD_FAILURE() << "go build failed:\n" << ReadFile(build_log);
      return "";
    }
    return binary;
  }

  std::unique_ptr<TempDir> build_dir_;
};

TEST_F(ClientGoE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  const std::string binary = BuildExample();
  ASSERT_FALSE(binary.empty());
  RunScenario("go", {binary});
}

TEST_F(ClientGoE2eTest, TenTransientFailuresAreTenRetriesUnderPartitionOrdering) {
  const std::string binary = BuildExample();
  ASSERT_FALSE(binary.empty());
  RunRetryScenario("go", "partition", {binary});
}

TEST_F(ClientGoE2eTest, TenTransientFailuresAreTenRetriesWithoutOrdering) {
  const std::string binary = BuildExample();
  ASSERT_FALSE(binary.empty());
  RunRetryScenario("go", "none", {binary});
}

TEST_F(ClientGoE2eTest, ModuleRequiredByAProjectOutsideTheRepository) {
  RunPackageScenario("go");
}

}  // namespace
}  // namespace kafka_sidecar::testing
