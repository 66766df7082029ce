// The Node.js helper (client_examples/nodejs) against the real sidecar and
// broker: its example handler in the shared client-example scenario and the
// retry scenario under both orderings, and the package installed from its
// npm tarball into a project outside the repository.
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientNodejsE2eTest : public ClientExampleE2eTest {
 protected:
  std::vector<std::string> Example() {
    const std::string dir = RepoRoot() + "/client_examples/nodejs";
    const std::string grpc_js = dir + "/node_modules/@grpc/grpc-js/package.json";
    EXPECT_EQ(::access(grpc_js.c_str(), R_OK), 0)
        << grpc_js << " missing: run client_examples/nodejs/setup.sh";
    // `env` (the harness's launcher) finds node on PATH.
    return {"node", dir + "/example_handler.js"};
  }
};

TEST_F(ClientNodejsE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  RunScenario("nodejs", Example());
}

TEST_F(ClientNodejsE2eTest, TenTransientFailuresAreTenRetriesUnderPartitionOrdering) {
  RunRetryScenario("nodejs", "partition", Example());
}

TEST_F(ClientNodejsE2eTest, TenTransientFailuresAreTenRetriesWithoutOrdering) {
  RunRetryScenario("nodejs", "none", Example());
}

TEST_F(ClientNodejsE2eTest, PackageInstalledFromItsTarballRunsOutsideTheRepository) {
  RunPackageScenario("nodejs");
}

}  // namespace
}  // namespace kafka_sidecar::testing
