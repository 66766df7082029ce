// The Python helper (client_examples/python) against the real sidecar and
// broker: its example handler in the shared client-example scenario and the
// retry scenario under both orderings, and the package installed from its
// wheel into a project outside the repository.
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientPythonE2eTest : public ClientExampleE2eTest {
 protected:
  // The example handler under setup.sh's virtualenv; -u: unbuffered, so a
  // failure's printed log shows the last lines.
  std::vector<std::string> Example() {
    const std::string root = RepoRoot();
    const std::string python = root + "/.venv/bin/python3";
    const std::string stubs =
        root + "/client_examples/python/kafka_sidecar_client/_proto/sidecar_pb2_grpc.py";
    EXPECT_EQ(::access(python.c_str(), X_OK), 0)
        << python << " missing: run scripts/install-deps.sh";
    EXPECT_EQ(::access(stubs.c_str(), R_OK), 0) << stubs << " missing";
    return {python, "-u", root + "/client_examples/python/example_handler.py"};
  }
};

TEST_F(ClientPythonE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  RunScenario("python", Example());
}

TEST_F(ClientPythonE2eTest, TenTransientFailuresAreTenRetriesUnderPartitionOrdering) {
  RunRetryScenario("python", "partition", Example());
}

TEST_F(ClientPythonE2eTest, TenTransientFailuresAreTenRetriesWithoutOrdering) {
  RunRetryScenario("python", "none", Example());
}

TEST_F(ClientPythonE2eTest, PackageInstalledFromItsWheelRunsOutsideTheRepository) {
  RunPackageScenario("python");
}

}  // namespace
}  // namespace kafka_sidecar::testing
