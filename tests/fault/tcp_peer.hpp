// A scripted server over loopback TCP for fault injection: it accepts one
// connection and runs `script` on it, with blocking calls, on a thread of its
// own. Unlike a socketpair it can reset the connection (SO_LINGER 0).
#pragma once

#include "scripted_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace costrix::test {

class tcp_peer {
 public:
  using script = std::function<void(int fd, peer_io& io)>;

  explicit tcp_peer(script s) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, s = std::move(s)] {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      peer_io io(fd);
      s(fd, io);
      if (!closed_) ::close(fd);
    });
  }
  ~tcp_peer() { join(); }
  void join() {
    if (thread_.joinable()) {
      ::shutdown(listener_, SHUT_RDWR);  // an accept() still waiting returns
      thread_.join();
    }
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }
  std::uint16_t port() const { return port_; }

  /// Closes `fd` with a reset instead of an orderly FIN; the script must not use it after.
  void reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
    closed_ = true;
  }
  /// Closes `fd` (FIN); the script must not use it after.
  void close(int fd) {
    ::close(fd);
    closed_ = true;
  }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  bool closed_ = false;
  std::thread thread_;
};

/// Writes `bytes` one byte every `gap`: a peer trickling its reply.
inline void trickle(int fd, std::string_view bytes, std::chrono::milliseconds gap) {
  for (char c : bytes) {
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) return;
    std::this_thread::sleep_for(gap);
  }
}

/// A line without its "\r\n" or "\n".
inline std::string chomp(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace costrix::test
