// ami::async_agi: AGI scripts for the channels in AGI(agi:async), over an AMI client.
#pragma once

#include <costrix/agi/session.hpp>
#include <costrix/ami/client.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace costrix::ami {

struct async_agi_options {
  /// Command timeout, line and environment limits, as for FastAGI.
  agi::session_options session{};
  /// Send `ASYNCAGI BREAK` when the script returns, so that the channel goes
  /// on in the dialplan (as it does when a FastAGI script closes its connection).
  bool break_on_return = true;
};

struct async_agi_stats {
  std::uint64_t started = 0;  ///< channels that entered AGI(agi:async) and ran the script
  std::uint64_t active = 0;   ///< scripts running now
  std::uint64_t refused = 0;  ///< AsyncAGIStart events that could not start a script (bad Env, no descriptors)
};

/// Runs `script` for every channel that enters `AGI(agi:async,args...)` on the
/// Asterisk behind the client, with the same `agi::session` as FastAGI and
/// classic AGI. Each command goes out as an `AGI` action (with a `CommandID`)
/// and its reply is the `Result` of the channel's `AsyncAGIExec` event. Both
/// event forms are understood: `AsyncAGIStart`/`Exec`/`End` (Asterisk 13 and
/// later) and `AsyncAGI` with `SubEvent: Start|Exec|End` (older ones).
///
///   ami::client c{ex, {.username = "admin", .secret = "...", .events = "agi"}};
///   ami::async_agi agi{c, [](agi::session& s) -> awaitable<void> {
///     co_await s.answer();
///     co_await s.stream_file("demo-thanks");
///   }};
///
/// Scripts run on the client's executor. A script's commands fail with
/// `errc::disconnected` once the channel has left AGI (`AsyncAGIEnd`: hung up
/// or broken out), once the `AGI` action is refused (the channel is gone), and
/// when the AMI connection is lost. Each running script holds a socket pair
/// (two descriptors) that carries its session's bytes.
class async_agi {
 public:
  using handler = std::function<awaitable<void>(agi::session&)>;

  async_agi(client& c, handler script, async_agi_options options = {});
  /// Takes no new channels; scripts already running go on to their end.
  ~async_agi();
  async_agi(const async_agi&) = delete;
  async_agi& operator=(const async_agi&) = delete;

  /// Callable from any thread.
  async_agi_stats stats() const noexcept;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace costrix::ami
