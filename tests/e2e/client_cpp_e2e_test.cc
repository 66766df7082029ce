// The C++ helper (client_examples/cpp) against the real sidecar and broker:
// its example handler (built with the sidecar) in the shared client-example
// scenario and the retry scenario under both orderings, and the CMake package
// installed and found by a project outside the repository.
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientCppE2eTest : public ClientExampleE2eTest {
 protected:
  void SetUp() override {
    ClientExampleE2eTest::SetUp();
    ASSERT_EQ(::access(CPP_EXAMPLE_HANDLER_BINARY, X_OK), 0)
        << CPP_EXAMPLE_HANDLER_BINARY << " missing: the build makes it";
  }
};

TEST_F(ClientCppE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  RunScenario("cpp", {CPP_EXAMPLE_HANDLER_BINARY});
}

TEST_F(ClientCppE2eTest, TenTransientFailuresAreTenRetriesUnderPartitionOrdering) {
  RunRetryScenario("cpp", "partition", {CPP_EXAMPLE_HANDLER_BINARY});
}

TEST_F(ClientCppE2eTest, TenTransientFailuresAreTenRetriesWithoutOrdering) {
  RunRetryScenario("cpp", "none", {CPP_EXAMPLE_HANDLER_BINARY});
}

TEST_F(ClientCppE2eTest, PackageFoundByAProjectOutsideTheRepository) {
  RunPackageScenario("cpp");
}

}  // namespace
}  // namespace kafka_sidecar::testing
