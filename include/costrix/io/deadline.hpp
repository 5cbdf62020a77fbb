// io::deadline: cancels a stream's pending waits when an operation takes too long.
#pragma once

#include <costrix/io/stream.hpp>

#include <chrono>
#include <memory>

namespace costrix::io {

/// Arm before an exchange, disarm after it. If the time passes first, the
/// stream's waits are cancelled and `expired()` turns true. Nothing is
/// allocated until the first arm() with a duration; re-arming allocates
/// nothing; a timer that fired late never touches a later exchange or a
/// destroyed owner.
class deadline {
 public:
  explicit deadline(stream& s) noexcept;
  ~deadline();
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;

  /// Starts the clock; a zero duration means no deadline.
  void arm(std::chrono::milliseconds d);
  void disarm() noexcept;
  /// disarm(), and frees the timer until the next arm() with a duration.
  void release() noexcept;
  bool expired() const noexcept;

 private:
  struct state;
  struct timer;
  stream& target_;
  std::shared_ptr<state> state_;  // shared with a pending wait's handler
  std::unique_ptr<timer> timer_;
};

}  // namespace costrix::io
