// The Java example handler (client_examples/java) against the real sidecar
// and broker: the shared client-example scenario.
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

// This file is tests/e2e/client_java_e2e_test.cc; the build passes it by
// absolute path, which locates the repository without extra build config.
std::string RepoRoot() {
  std::string path = __FILE__;
  for (int i = 0; i < 3; ++i) path = path.substr(0, path.rfind('/'));
  return path;
}

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
