// The C++ example handler (client_examples/cpp, built with the sidecar)
// against the real sidecar and broker: the shared client-example scenario.
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientCppE2eTest : public ClientExampleE2eTest {};

TEST_F(ClientCppE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  ASSERT_EQ(::access(CPP_EXAMPLE_HANDLER_BINARY, X_OK), 0)
      << CPP_EXAMPLE_HANDLER_BINARY << " missing: the build makes it";
  RunScenario("cpp", {CPP_EXAMPLE_HANDLER_BINARY});
}

}  // namespace
}  // namespace kafka_sidecar::testing
