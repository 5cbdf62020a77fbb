// Classic AGI: the same agi::session over stdin/stdout, for a process Asterisk starts.
#pragma once

#include <costrix/agi/session.hpp>

#include <functional>

namespace costrix::agi {

using script = std::function<awaitable<void>(session&)>;

/// Runs `s` as the AGI script of this process: reads the environment from
/// `in_fd`, writes commands to `out_fd` (stdin and stdout by default: nothing
/// else may write to stdout). Asterisk's SIGHUP on hangup is caught and turns
/// every later command into `errc::hangup`. Returns the process exit code: 0
/// when the script ran, 1 when the environment could not be read or the
/// script threw (the reason is logged).
int run_classic(const script& s, session_options options = {}, int in_fd = 0, int out_fd = 1);

}  // namespace costrix::agi
