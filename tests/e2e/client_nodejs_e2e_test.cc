// The Node.js example handler (client_examples/nodejs) against the real
// sidecar and broker: the shared client-example scenario.
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientNodejsE2eTest : public ClientExampleE2eTest {};

TEST_F(ClientNodejsE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  const std::string dir = RepoRoot() + "/client_examples/nodejs";
  const std::string grpc_js = dir + "/node_modules/@grpc/grpc-js/package.json";
  ASSERT_EQ(::access(grpc_js.c_str(), R_OK), 0)
      << grpc_js << " missing: run client_examples/nodejs/setup.sh";
  // `env` (the harness's launcher) finds node on PATH.
  RunScenario("nodejs", {"node", dir + "/example_handler.js"});
}

}  // namespace
}  // namespace kafka_sidecar::testing
