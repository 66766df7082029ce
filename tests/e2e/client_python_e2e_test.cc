// The Python example handler (client_examples/python) against the real
// sidecar and broker: the shared client-example scenario.
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientPythonE2eTest : public ClientExampleE2eTest {};

TEST_F(ClientPythonE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  const std::string root = RepoRoot();
  const std::string python = root + "/.venv/bin/python3";
  const std::string example = root + "/client_examples/python/example_handler.py";
  const std::string stubs =
      root + "/client_examples/python/generated/kafka_sidecar/v1/sidecar_pb2_grpc.py";
  ASSERT_EQ(::access(python.c_str(), X_OK), 0)
      << python << " missing: run scripts/install-deps.sh";
  ASSERT_EQ(::access(stubs.c_str(), R_OK), 0)
      << stubs << " missing: run client_examples/python/setup.sh";
  // -u: unbuffered, so a failure's printed log shows the last lines.
  RunScenario("python", {python, "-u", example});
}

}  // namespace
}  // namespace kafka_sidecar::testing
