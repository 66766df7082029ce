#include "sidecar/server/unix_socket.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

constexpr char kKey[] = "server.grpc_listen";

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/unix-socket-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    path_ = dir_ + "/s.sock";
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A socket bound at path_, listening or not; open until TearDown.
  int Bind(bool listen) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << std::strerror(errno);
    if (listen) {
      EXPECT_EQ(::listen(fd, 4), 0);
    }
    return fd;
  }

  bool Exists() const {
    struct stat st {};
    return ::lstat(path_.c_str(), &st) == 0;
  }

  std::string dir_;
  std::string path_;
  std::vector<int> fds_;
};

TEST(UnixSocketPathTest, OnlyForUnixAddresses) {
  EXPECT_EQ(UnixSocketPath("unix:/run/sidecar.sock"), "/run/sidecar.sock");
  EXPECT_EQ(UnixSocketPath("127.0.0.1:50051"), "");
  EXPECT_EQ(UnixSocketPath("[::1]:0"), "");
}

TEST_F(UnixSocketTest, NothingAtThePathIsFine) {
  EXPECT_TRUE(ClearStaleUnixSocket(kKey, path_).ok());
  EXPECT_FALSE(Exists());
}

TEST_F(UnixSocketTest, SocketNobodyAcceptsOnIsRemoved) {
  ::close(Bind(/*listen=*/false));
  fds_.clear();
  ASSERT_TRUE(Exists());
  absl::Status s = ClearStaleUnixSocket(kKey, path_);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(Exists());
}

TEST_F(UnixSocketTest, SocketALiveProcessAcceptsOnIsAnErrorAndKept) {
  Bind(/*listen=*/true);
  absl::Status s = ClearStaleUnixSocket(kKey, path_);
  EXPECT_EQ(s.message(), "server.grpc_listen: " + path_ + " is in use by another process");
  EXPECT_TRUE(Exists());
}

TEST_F(UnixSocketTest, RegularFileIsAnErrorAndKept) {
  std::ofstream(path_) << "data";
  absl::Status s = ClearStaleUnixSocket(kKey, path_);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.message(), "server.grpc_listen: " + path_ +
                                                " exists and is a regular file"))
      << s;
  std::ifstream in(path_);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "data");
}

TEST_F(UnixSocketTest, DirectoryIsAnError) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  absl::Status s = ClearStaleUnixSocket(kKey, path_);
  EXPECT_TRUE(absl::StrContains(s.message(), "is a directory")) << s;
}

TEST_F(UnixSocketTest, RestrictSetsTheModeAndRemoveDeletesOnlyThatSocket) {
  Bind(/*listen=*/true);
  absl::StatusOr<SocketFileId> id = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(id.ok()) << id.status();
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  // Another process took the path over since: its socket stays.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  Bind(/*listen=*/true);
  RemoveUnixSocket(path_, *id);
  EXPECT_TRUE(Exists());

  absl::StatusOr<SocketFileId> own = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(own.ok()) << own.status();
  RemoveUnixSocket(path_, *own);
  EXPECT_FALSE(Exists());
}

TEST(ScopedUmaskTest, AddsToTheUmaskAndRestoresIt) {
  const mode_t before = ::umask(022);
  {
    ScopedUmask scoped(0117);
    const mode_t inside = ::umask(0);
    ::umask(inside);
    EXPECT_EQ(inside, 0137u);
  }
  const mode_t after = ::umask(before);
  EXPECT_EQ(after, 022u);
}

}  // namespace
}  // namespace kafka_sidecar
