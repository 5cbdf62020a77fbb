// The far end of a socketpair, driven by plain blocking calls on its own thread:
// plays Asterisk (or a misbehaving peer) against a session under test.
#pragma once

#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace costrix::test {

/// Catch's assertions may run on the test's thread only: a peer thread notes
/// its checks here (PEER_CHECK), and the test asserts them after join().
class peer_checks {
 public:
  void check(bool ok, const char* expression) {
    std::lock_guard lock(m_);
    if (!ok) failed_.emplace_back(expression);
  }
  /// On the test's thread, after the peer has joined.
  void verify() {
    std::lock_guard lock(m_);
    CHECK(failed_ == std::vector<std::string>{});
  }

 private:
  std::mutex m_;
  std::vector<std::string> failed_;
};

#define PEER_CHECK(checks, ...) (checks).check(static_cast<bool>(__VA_ARGS__), #__VA_ARGS__)

class socket_pair {
 public:
  socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_) == 0); }
  ~socket_pair() {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  int near() const { return fds_[0]; }  ///< the side the code under test uses
  int far() const { return fds_[1]; }   ///< the side the scripted peer uses
  void close_far() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  void close_near() {
    ::close(fds_[0]);
    fds_[0] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

/// Blocking line I/O on the peer's descriptor.
class peer_io {
 public:
  explicit peer_io(int fd) : fd_(fd) {}
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// The next line without '\n'; empty optional-like "" plus eof() at end of stream.
  std::string read_line() {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) {
        eof_ = true;
        return {};
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  bool eof() const { return eof_; }

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace costrix::test
