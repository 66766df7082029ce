// Arbitrary bytes as a config file. The loader promises never to throw and to
// report every problem as an InvalidArgument status, so a crash, a sanitizer
// report, a leak, a hang or any other status code here is a bug. A config it
// accepts must pass ValidateConfig on its own too: the sidecar validates
// again after layering the environment and flags on top.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "absl/status/status.h"
#include "sidecar/config/config_loader.h"

namespace {

[[noreturn]] void Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "config_fuzzer: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<kafka_sidecar::Config> config = kafka_sidecar::ParseConfigYaml(text);
  if (!config.ok()) {
    if (!absl::IsInvalidArgument(config.status())) Fail("unexpected status code", config.status());
    return 0;
  }
  if (absl::Status again = kafka_sidecar::ValidateConfig(*config); !again.ok()) {
    Fail("accepted config fails ValidateConfig", again);
  }
  return 0;
}
