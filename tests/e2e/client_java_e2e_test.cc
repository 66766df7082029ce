// The Java helper (client_examples/java) against the real sidecar and broker:
// its example handler in the shared client-example scenario and the retry
// scenario under both orderings, and the library installed with `mvn install`
// and used by its coordinates from a project outside the repository.
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/client_example_e2e.h"

namespace kafka_sidecar::testing {
namespace {

class ClientJavaE2eTest : public ClientExampleE2eTest {
 protected:
  // The jar's manifest names the main class and its dependencies in
  // target/lib, so `java -jar` is the whole command line (`env` finds java
  // on PATH).
  std::vector<std::string> Example() {
    const std::string jar =
        RepoRoot() + "/client_examples/java/target/kafka-sidecar-java-example.jar";
    EXPECT_EQ(::access(jar.c_str(), R_OK), 0)
        << jar << " missing: run client_examples/java/setup.sh";
    return {"java", "-jar", jar};
  }
};

TEST_F(ClientJavaE2eTest, ExampleHandlerProcessesRejectsAndSurvivesAKill) {
  RunScenario("java", Example());
}

TEST_F(ClientJavaE2eTest, TenTransientFailuresAreTenRetriesUnderPartitionOrdering) {
  RunRetryScenario("java", "partition", Example());
}

TEST_F(ClientJavaE2eTest, TenTransientFailuresAreTenRetriesWithoutOrdering) {
  RunRetryScenario("java", "none", Example());
}

TEST_F(ClientJavaE2eTest, LibraryUsedByCoordinatesFromAProjectOutsideTheRepository) {
  RunPackageScenario("java");
}

}  // namespace
}  // namespace kafka_sidecar::testing
