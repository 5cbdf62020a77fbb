// io::deadline: cancels a stream's pending I/O when an operation takes too long.
#pragma once

#include <costrix/io/stream.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace costrix::io {

/// Arm before an exchange, disarm after it. If the time passes first, the
/// stream's reads and writes are cancelled and `expired()` turns true. Re-arming
/// costs no allocation; a timer that fired late never touches a later exchange
/// or a destroyed owner.
class deadline {
 public:
  explicit deadline(stream& s);
  ~deadline();
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;

  /// Starts the clock; a zero duration means no deadline.
  void arm(std::chrono::milliseconds d);
  void disarm() noexcept;
  bool expired() const noexcept { return state_ && state_->expired; }

 private:
  struct state {
    stream* target;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  stream& target_;
  std::shared_ptr<state> state_;  // made on the first arm(): no cost when no deadline is ever set
  boost::asio::steady_timer timer_;
};

}  // namespace costrix::io
