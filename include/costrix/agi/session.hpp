// agi::session: one AGI conversation with Asterisk, over FastAGI or classic AGI.
#pragma once

#include <costrix/io/deadline.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/proto/agi/commands.hpp>
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/result.hpp>


#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace costrix::agi {

using proto::agi::channel_state;
using proto::agi::digits;
using proto::agi::environment;
using proto::agi::playback;
using proto::agi::raw_reply;
using proto::agi::recording;
using proto::agi::speech;

struct session_options {
  std::chrono::milliseconds command_timeout{0};  ///< 0: wait as long as Asterisk takes
  std::chrono::milliseconds environment_timeout{10'000};  ///< for the agi_* block; 0: no limit
  std::size_t max_line = io::line_buffer::default_max_line;
  proto::agi::environment_limits environment_limits{};
};

/// One call's AGI conversation. Commands run one at a time, in order: await
/// each before sending the next. Every command returns `result<T>`:
///   - `errc::hangup` once Asterisk has said `HANGUP` (the command in flight and
///     every later one; later ones are not sent);
///   - `errc::invalid_command` (510), `errc::dead_channel` (511),
///     `errc::usage` (520, with Asterisk's usage text as the message);
///   - `errc::timeout` when `command_timeout` passes; the session is then closed,
///     because a late reply would answer the wrong command;
///   - `errc::disconnected`, `errc::limit_exceeded`, `errc::protocol` for the connection.
class session {
 public:
  explicit session(io::stream& stream, session_options options = {});
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Reads the `agi_*` environment. Servers call this before the handler runs.
  awaitable<result<void>> start();

  const environment& env() const noexcept { return env_; }
  /// agi_arg_1 ... agi_arg_N.
  const std::vector<std::string>& args() const noexcept { return env_.args; }
  /// The FastAGI script path ("ivr/main" of agi://host/ivr/main?lang=en).
  const std::string& script() const noexcept { return env_.script; }
  /// The first value of a query parameter of the script URL.
  std::optional<std::string_view> param(std::string_view key) const { return env_.param(key); }
  bool hung_up() const noexcept { return hung_up_; }
  std::string peer() const { return stream_.peer(); }

  /// Sends any command descriptor and returns its typed reply.
  template <proto::agi::command C>
  awaitable<result<typename C::reply_type>> send(C cmd) {
    out_.clear();
    if (auto e = proto::agi::encode(cmd, out_); !e) co_return fail(std::move(e).error());
    if (auto r = co_await exchange(); !r) co_return fail(std::move(r).error());
    co_return proto::agi::decode<C>(parser_.get());
  }

  /// A command line costrix does not model, sent as given.
  awaitable<result<raw_reply>> raw(std::string_view line) { return send(proto::agi::raw{line}); }

  /// For transports that learn of the hangup out of band (classic AGI's SIGHUP):
  /// every later command returns `errc::hangup` without being sent.
  void mark_hung_up() noexcept { hung_up_ = true; }

  /// Closes the connection (the session ends; Asterisk continues the dialplan).
  void close() noexcept { stream_.close(); }

  // ---- one method per AGI command (proto/agi/commands.hpp has their replies) ----
  awaitable<result<void>> answer() { return send(proto::agi::answer{}); }
  awaitable<result<std::optional<std::string>>> get_variable(std::string_view name) {
    return send(proto::agi::get_variable{name});
  }
  awaitable<result<playback>> stream_file(std::string_view file, std::string_view escape_digits = {},
                                          std::optional<std::int64_t> offset = {}) {
    return send(proto::agi::stream_file{file, escape_digits, offset});
  }
  // ---- end of the command methods ----

 private:
  awaitable<result<void>> exchange();
  awaitable<result<void>> read_reply();
  error broken(error e);

  io::stream& stream_;
  session_options options_;
  io::line_reader reader_;
  proto::agi::reply_parser parser_;
  environment env_;
  std::string out_;
  io::deadline deadline_;
  bool hung_up_ = false;
  bool broken_ = false;
};

}  // namespace costrix::agi
