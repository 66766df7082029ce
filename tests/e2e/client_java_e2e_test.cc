// The Java example handler (client_examples/java) against the real sidecar
// and broker: the shared client-example scenario.
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientJavaE2eTest : public ClientExampleE2eTest {};

TEST_F(ClientJavaE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  const std::string jar =
      RepoRoot() + "/client_examples/java/target/kafka-sidecar-java-example.jar";
  ASSERT_EQ(::access(jar.c_str(), R_OK), 0)
      << jar << " missing: run client_examples/java/setup.sh";
  // The jar's manifest names the main class and its dependencies in
  // target/lib, so `java -jar` is the whole command line (`env` finds java
  // on PATH).
  RunScenario("java", {"java", "-jar", jar});
}

}  // namespace
}  // namespace kafka_sidecar::testing
