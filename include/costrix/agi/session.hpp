// agi::session: one AGI conversation with Asterisk, over FastAGI or classic AGI.
#pragma once

#include <costrix/io/deadline.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/proto/agi/commands.hpp>
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/result.hpp>


#include <atomic>
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
  const std::vector<std::string_view>& args() const noexcept { return env_.args; }
  /// The FastAGI script path ("ivr/main" of agi://host/ivr/main?lang=en).
  std::string_view script() const noexcept { return env_.script; }
  /// The first value of a query parameter of the script URL.
  std::optional<std::string_view> param(std::string_view key) const { return env_.param(key); }
  bool hung_up() const noexcept { return hung_up_.load(std::memory_order_relaxed); }
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
  /// Safe to call from a signal handler.
  void mark_hung_up() noexcept { hung_up_.store(true, std::memory_order_relaxed); }

  /// Closes the connection (the session ends; Asterisk continues the dialplan).
  void close() noexcept { stream_.close(); }

  // ---- one method per AGI command (proto/agi/commands.hpp has their replies) ----
  // Durations are in the unit Asterisk takes (milliseconds unless the type says seconds);
  // escape digits default to none; string arguments must outlive the co_await.
  awaitable<result<void>> answer() { return send(proto::agi::answer{}); }
  awaitable<result<void>> asyncagi_break() { return send(proto::agi::asyncagi_break{}); }
  awaitable<result<channel_state>> channel_status(std::string_view channel = {}) { return send(proto::agi::channel_status{channel}); }
  awaitable<result<playback>> control_stream_file(std::string_view file, std::string_view escape_digits = {}, std::optional<std::chrono::milliseconds> skip = {}, std::string_view forward = {}, std::string_view rewind = {}, std::string_view pause = {}, std::optional<std::chrono::milliseconds> offset = {}) { return send(proto::agi::control_stream_file{file, escape_digits, skip, forward, rewind, pause, offset}); }
  awaitable<result<void>> database_del(std::string_view family, std::string_view key) { return send(proto::agi::database_del{family, key}); }
  awaitable<result<bool>> database_deltree(std::string_view family, std::string_view keytree = {}) { return send(proto::agi::database_deltree{family, keytree}); }
  awaitable<result<std::optional<std::string>>> database_get(std::string_view family, std::string_view key) { return send(proto::agi::database_get{family, key}); }
  awaitable<result<void>> database_put(std::string_view family, std::string_view key, std::string_view value) { return send(proto::agi::database_put{family, key, value}); }
  awaitable<result<int>> exec(std::string_view application, std::string_view options = {}) { return send(proto::agi::exec{application, options}); }
  awaitable<result<digits>> get_data(std::string_view file, std::optional<std::chrono::milliseconds> timeout = {}, std::optional<int> max_digits = {}) { return send(proto::agi::get_data{file, timeout, max_digits}); }
  awaitable<result<std::optional<std::string>>> get_full_variable(std::string_view expression, std::string_view channel = {}) { return send(proto::agi::get_full_variable{expression, channel}); }
  awaitable<result<playback>> get_option(std::string_view file, std::string_view escape_digits = {}, std::optional<std::chrono::milliseconds> timeout = {}) { return send(proto::agi::get_option{file, escape_digits, timeout}); }
  awaitable<result<std::optional<std::string>>> get_variable(std::string_view name) { return send(proto::agi::get_variable{name}); }
  awaitable<result<void>> gosub(std::string_view context, std::string_view extension, std::string_view priority, std::string_view arguments = {}) { return send(proto::agi::gosub{context, extension, priority, arguments}); }
  awaitable<result<void>> hangup(std::string_view channel = {}) { return send(proto::agi::hangup{channel}); }
  awaitable<result<void>> noop(std::string_view text = {}) { return send(proto::agi::noop{text}); }
  awaitable<result<std::optional<char>>> receive_char(std::chrono::milliseconds timeout) { return send(proto::agi::receive_char{timeout}); }
  awaitable<result<std::string>> receive_text(std::chrono::milliseconds timeout) { return send(proto::agi::receive_text{timeout}); }
  awaitable<result<recording>> record_file(std::string_view file, std::string_view format, std::string_view escape_digits = {}, std::chrono::milliseconds timeout = std::chrono::milliseconds{-1}, std::optional<std::int64_t> offset = {}, bool beep = false, std::optional<std::chrono::seconds> silence = {}) { return send(proto::agi::record_file{file, format, escape_digits, timeout, offset, beep, silence}); }
  awaitable<result<std::optional<char>>> say_alpha(std::string_view text, std::string_view escape_digits = {}) { return send(proto::agi::say_alpha{text, escape_digits}); }
  awaitable<result<std::optional<char>>> say_date(std::int64_t time, std::string_view escape_digits = {}) { return send(proto::agi::say_date{time, escape_digits}); }
  awaitable<result<std::optional<char>>> say_datetime(std::int64_t time, std::string_view escape_digits = {}, std::string_view format = {}, std::string_view timezone = {}) { return send(proto::agi::say_datetime{time, escape_digits, format, timezone}); }
  awaitable<result<std::optional<char>>> say_digits(std::string_view number, std::string_view escape_digits = {}) { return send(proto::agi::say_digits{number, escape_digits}); }
  awaitable<result<std::optional<char>>> say_number(std::int64_t number, std::string_view escape_digits = {}, std::string_view gender = {}) { return send(proto::agi::say_number{number, escape_digits, gender}); }
  awaitable<result<std::optional<char>>> say_phonetic(std::string_view text, std::string_view escape_digits = {}) { return send(proto::agi::say_phonetic{text, escape_digits}); }
  awaitable<result<std::optional<char>>> say_time(std::int64_t time, std::string_view escape_digits = {}) { return send(proto::agi::say_time{time, escape_digits}); }
  awaitable<result<void>> send_image(std::string_view image) { return send(proto::agi::send_image{image}); }
  awaitable<result<void>> send_text(std::string_view text) { return send(proto::agi::send_text{text}); }
  awaitable<result<void>> set_autohangup(std::chrono::seconds time) { return send(proto::agi::set_autohangup{time}); }
  awaitable<result<void>> set_callerid(std::string_view number) { return send(proto::agi::set_callerid{number}); }
  awaitable<result<void>> set_context(std::string_view context) { return send(proto::agi::set_context{context}); }
  awaitable<result<void>> set_extension(std::string_view extension) { return send(proto::agi::set_extension{extension}); }
  awaitable<result<void>> set_music(bool on, std::string_view music_class = {}) { return send(proto::agi::set_music{on, music_class}); }
  awaitable<result<void>> set_priority(std::string_view priority) { return send(proto::agi::set_priority{priority}); }
  awaitable<result<void>> set_variable(std::string_view name, std::string_view value) { return send(proto::agi::set_variable{name, value}); }
  awaitable<result<void>> speech_activate_grammar(std::string_view grammar) { return send(proto::agi::speech_activate_grammar{grammar}); }
  awaitable<result<void>> speech_create(std::string_view engine) { return send(proto::agi::speech_create{engine}); }
  awaitable<result<void>> speech_deactivate_grammar(std::string_view grammar) { return send(proto::agi::speech_deactivate_grammar{grammar}); }
  awaitable<result<void>> speech_destroy() { return send(proto::agi::speech_destroy{}); }
  awaitable<result<void>> speech_load_grammar(std::string_view grammar, std::string_view path) { return send(proto::agi::speech_load_grammar{grammar, path}); }
  awaitable<result<speech>> speech_recognize(std::string_view prompt, std::chrono::seconds timeout, std::optional<std::int64_t> offset = {}) { return send(proto::agi::speech_recognize{prompt, timeout, offset}); }
  awaitable<result<void>> speech_set(std::string_view setting, std::string_view value) { return send(proto::agi::speech_set{setting, value}); }
  awaitable<result<void>> speech_unload_grammar(std::string_view grammar) { return send(proto::agi::speech_unload_grammar{grammar}); }
  awaitable<result<playback>> stream_file(std::string_view file, std::string_view escape_digits = {}, std::optional<std::int64_t> offset = {}) { return send(proto::agi::stream_file{file, escape_digits, offset}); }
  awaitable<result<void>> tdd_mode(proto::agi::tdd_setting mode) { return send(proto::agi::tdd_mode{mode}); }
  awaitable<result<void>> verbose(std::string_view message, std::optional<int> level = {}) { return send(proto::agi::verbose{message, level}); }
  awaitable<result<std::optional<char>>> wait_for_digit(std::chrono::milliseconds timeout = std::chrono::milliseconds{-1}) { return send(proto::agi::wait_for_digit{timeout}); }
  // ---- end of the command methods ----

 private:
  awaitable<result<void>> exchange();
  error broken(error e);

  io::stream& stream_;
  session_options options_;
  io::line_reader reader_;
  proto::agi::reply_parser parser_;
  environment env_;
  std::string out_;
  io::deadline deadline_;
  std::atomic<bool> hung_up_{false};
  bool broken_ = false;
};

}  // namespace costrix::agi
