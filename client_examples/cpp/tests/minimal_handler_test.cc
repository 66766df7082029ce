// The README's minimal handler (packaging/minimal/handler.cc) as a process of
// its own against the fake sidecar: the environment defaults, what it
// settles, and the helper's SIGTERM handling (exit 0).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_sidecar.h"
#include "gtest/gtest.h"

extern char** environ;

namespace kafka_sidecar_client::testing {
namespace {

using std::chrono::milliseconds;

// The handler process; SIGKILLed and reaped if a test ends early.
class Child {
 public:
  Child(const std::string& binary, const std::vector<std::string>& extra_env) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (entry.rfind("SIDECAR_ADDRESS=", 0) != 0 && entry.rfind("HANDLER_NAME=", 0) != 0) {
        env.push_back(entry);
      }
    }
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string arg0 = binary;
    char* argv[] = {arg0.data(), nullptr};
    spawned_ = posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv, envp.data()) == 0;
    if (spawned_) {
      exit_ = std::async(std::launch::async, [pid = pid_] {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return status;
      });
    }
  }
  ~Child() {
    if (spawned_ && exit_.valid()) {
      if (exit_.wait_for(milliseconds(0)) != std::future_status::ready) ::kill(pid_, SIGKILL);
      exit_.wait();
    }
  }
  bool spawned() const { return spawned_; }
  void Signal(int signal_number) { ::kill(pid_, signal_number); }
  // The wait status, or nullopt if it is still running at the deadline.
  std::optional<int> AwaitExit(milliseconds timeout) {
    if (exit_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return exit_.get();
  }

 private:
  pid_t pid_ = -1;
  bool spawned_ = false;
  std::future<int> exit_;
};

// The one built here, or $CPP_MINIMAL_HANDLER: e.g. OUT_DIR/run-handler
// from packaging/make_outside_project.sh, the same source built against the
// installed package.
std::string HandlerBinary() {
  const char* other = std::getenv("CPP_MINIMAL_HANDLER");
  return other != nullptr && *other != '\0' ? other : CPP_MINIMAL_HANDLER_BINARY;
}

TEST(MinimalHandlerTest, AcksJsonRejectsTheRestAndExitsZeroOnSigterm) {
  FakeSidecar sidecar;
  const std::string binary = HandlerBinary();
  Child handler(binary, {"SIDECAR_ADDRESS=" + sidecar.target(), "HANDLER_NAME=minimal-test"});
  ASSERT_TRUE(handler.spawned()) << binary;

  std::shared_ptr<FakeStream> stream = sidecar.NextStream();
  ASSERT_NE(stream, nullptr) << "the handler did not connect to $SIDECAR_ADDRESS";
  std::optional<v1::ConsumeRequest> subscribe = stream->Next();
  ASSERT_TRUE(subscribe && subscribe->has_subscribe());
  EXPECT_EQ(subscribe->subscribe().handler_name(), "minimal-test");

  ASSERT_TRUE(stream->SendSubscribed());
  std::vector<v1::Message> messages(3);
  messages[0].set_offset(10);
  messages[0].set_value(R"({"id": 1, "amount": 2.5})");
  messages[1].set_offset(11);
  messages[1].set_value(R"({"id": 2, "amount": )");
  messages[2].set_offset(12);  // tombstone
  ASSERT_TRUE(stream->SendBatch(1, "orders", 0, messages));
  std::optional<v1::Settle> settle = stream->NextSettle();
  ASSERT_TRUE(settle);
  ASSERT_EQ(settle->settlements_size(), 3);
  EXPECT_EQ(settle->settlements(0).outcome(), v1::OUTCOME_ACK);
  EXPECT_EQ(settle->settlements(0).offsets(0), 10);
  EXPECT_EQ(settle->settlements(1).outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(settle->settlements(1).offsets(0), 11);
  EXPECT_EQ(settle->settlements(1).reason(), "not JSON");
  EXPECT_EQ(settle->settlements(2).outcome(), v1::OUTCOME_REJECT);
  EXPECT_EQ(settle->settlements(2).offsets(0), 12);
  EXPECT_EQ(settle->settlements(2).reason(), "tombstone");

  handler.Signal(SIGTERM);
  EXPECT_TRUE(stream->AwaitHalfClose()) << "no half-close after SIGTERM";
  std::optional<int> status = handler.AwaitExit(milliseconds(15000));
  ASSERT_TRUE(status) << "the handler did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(*status)) << "wait status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
}  // namespace kafka_sidecar_client::testing
