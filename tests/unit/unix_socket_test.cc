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
#include "sidecar/server/socket_watch.h"

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

TEST_F(UnixSocketTest, DirectoryWritableByOthersIsRefusedUnlessSticky) {
  struct Case {
    mode_t mode;
    bool safe;
  };
  for (const Case& c : {Case{0777, false}, Case{0775, false}, Case{0770, false},
                        Case{01777, true}, Case{01775, true}, Case{0755, true},
                        Case{0750, true}, Case{0700, true}}) {
    SCOPED_TRACE(::testing::Message() << "mode " << std::oct << c.mode);
    ASSERT_EQ(::chmod(dir_.c_str(), c.mode), 0) << std::strerror(errno);
    absl::Status s = PrepareSocketDirectory(kKey, path_);
    if (c.safe) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_TRUE(absl::StartsWith(s.message(), "server.grpc_listen: socket directory " + dir_ +
                                                    " is writable by "))
          << s;
      EXPECT_TRUE(absl::StrContains(s.message(), "without the sticky bit")) << s;
    }
  }
}

TEST_F(UnixSocketTest, MissingDirectoryIsCreatedPrivateInsideAnUnsafeOne) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  const std::string sub = dir_ + "/grpc";
  absl::Status s = PrepareSocketDirectory(kKey, sub + "/s.sock");
  EXPECT_TRUE(s.ok()) << s;
  struct stat st {};
  ASSERT_EQ(::stat(sub.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0022, 0u) << "mode " << std::oct << (st.st_mode & 07777);

  s = PrepareSocketDirectory(kKey, dir_ + "/missing/deeper/s.sock");
  EXPECT_EQ(s.message(), "server.grpc_listen: socket directory " + dir_ +
                             "/missing/deeper: No such file or directory");
}

TEST(UnsafeSocketDirectoryTest, OwnerMustBeUsOrRoot) {
  const uid_t us = 1000;
  EXPECT_EQ(UnsafeSocketDirectoryReason(S_IFDIR | 0755, us, us), "");
  EXPECT_EQ(UnsafeSocketDirectoryReason(S_IFDIR | 0755, 0, us), "");
  EXPECT_EQ(UnsafeSocketDirectoryReason(S_IFDIR | 01777, 0, us), "");  // /tmp
  // Whoever owns the directory may unlink our socket, sticky or not.
  EXPECT_NE(UnsafeSocketDirectoryReason(S_IFDIR | 0755, 2000, us), "");
  EXPECT_NE(UnsafeSocketDirectoryReason(S_IFDIR | 01777, 2000, us), "");
  EXPECT_EQ(UnsafeSocketDirectoryReason(S_IFDIR | 02777, us, us).find("is writable by others"),
            0u);
  EXPECT_EQ(UnsafeSocketDirectoryReason(S_IFDIR | 0770, us, us).find("is writable by its group"),
            0u);
}

TEST_F(UnixSocketTest, FindSocketAtPathTellsOursFromReplacedAndGone) {
  Bind(/*listen=*/true);
  absl::StatusOr<SocketFileId> id = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(FindSocketAtPath(path_, *id), SocketAtPath::kOurs);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  EXPECT_EQ(FindSocketAtPath(path_, *id), SocketAtPath::kGone);
  Bind(/*listen=*/true);
  EXPECT_EQ(FindSocketAtPath(path_, *id), SocketAtPath::kReplaced);
}

TEST_F(UnixSocketTest, RemoveNeverDeletesAFileItDidNotCreate) {
  Bind(/*listen=*/true);
  absl::StatusOr<SocketFileId> id = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  std::ofstream(path_) << "someone else's";
  RemoveUnixSocket(path_, *id);
  EXPECT_TRUE(Exists());
}

TEST_F(UnixSocketTest, PublishLinksThePrivateSocketAndNeverReplaces) {
  const std::string public_path = path_;
  path_ = PrivateSocketPath(public_path);
  EXPECT_EQ(path_, public_path + "~" + std::to_string(::getpid()));
  Bind(/*listen=*/true);
  absl::StatusOr<SocketFileId> id = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(PublishUnixSocket(kKey, path_, public_path).ok());
  EXPECT_FALSE(Exists()) << "the private name stays behind";
  EXPECT_EQ(FindSocketAtPath(public_path, *id), SocketAtPath::kOurs);

  // A file that appeared at the public path meanwhile is kept.
  path_ = PrivateSocketPath(public_path);
  Bind(/*listen=*/true);
  absl::Status s = PublishUnixSocket(kKey, path_, public_path);
  EXPECT_TRUE(absl::StrContains(s.message(), "appeared while the sidecar was starting")) << s;
  EXPECT_EQ(FindSocketAtPath(public_path, *id), SocketAtPath::kOurs);
  EXPECT_FALSE(Exists());
}

TEST_F(UnixSocketTest, WatchFailsItsCheckOnceTheSocketIsNotOurs) {
  Bind(/*listen=*/true);
  absl::StatusOr<SocketFileId> id = RestrictUnixSocket(kKey, path_, 0660);
  ASSERT_TRUE(id.ok()) << id.status();
  UnixSocketWatch watch("grpc-socket", kKey, path_, *id);
  EXPECT_TRUE(watch.Check().ok);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  HealthCheck gone = watch.Check();
  EXPECT_EQ(gone.name, "grpc-socket");
  EXPECT_FALSE(gone.ok);
  EXPECT_TRUE(absl::StrContains(gone.detail, "was removed")) << gone.detail;
  Bind(/*listen=*/true);
  HealthCheck replaced = watch.Check();
  EXPECT_FALSE(replaced.ok);
  EXPECT_TRUE(absl::StrContains(replaced.detail, "did not create")) << replaced.detail;
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
