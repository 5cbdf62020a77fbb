// agi::session: one AGI conversation with Asterisk, over FastAGI or classic AGI.
#pragma once

#include <costrix/io/deadline.hpp>
#include <costrix/io/line_receiver.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/proto/agi/commands.hpp>
#include <costrix/proto/agi/environment.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/result.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace costrix::agi {
namespace detail {
template <class C, class Handler>
class exchange_op;
}

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
  bool hung_up() const noexcept { return hung_up_.load(std::memory_order_relaxed); }
  std::string peer() const { return stream_.peer(); }

  /// Sends any command descriptor and returns its typed reply. While the
  /// reply is awaited the session holds no receive buffer and no coroutine
  /// frame of its own: one Asio operation waits for the socket to be readable.
  template <proto::agi::command C>
  awaitable<result<typename C::reply_type>> send(C cmd) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(result<typename C::reply_type>)>(
        initiation<C>{this}, boost::asio::use_awaitable, cmd);
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
  template <class C, class Handler>
  friend class detail::exchange_op;
  template <class C>
  struct initiation;

  // One exchange, as steps an operation drives: begin() writes the encoded
  // `line`, resume() runs after each wait. `wait_read`/`wait_write`: wait for
  // the stream, then resume(); `done`: the reply is in parser_.
  enum class step { wait_read, wait_write, done };
  result<step> begin(std::string_view line);
  result<step> resume(const boost::system::error_code& wait_error);
  static std::string& line_scratch();  // the thread's buffer to encode a command into
  error broken(error e);
  error wait_failed(const boost::system::error_code& ec);

  io::stream& stream_;
  session_options options_;
  io::line_receiver receiver_;
  proto::agi::reply_parser parser_;
  environment env_;
  std::unique_ptr<char[]> unsent_;  // the end of a command the stream did not take at once
  std::uint32_t unsent_size_ = 0;
  std::uint32_t unsent_offset_ = 0;
  io::deadline deadline_;
  std::atomic<bool> hung_up_{false};
  bool broken_ = false;
};

namespace detail {

/// Drives one command's exchange: write, wait, read, decode; completes once.
template <class C, class Handler>
class exchange_op {
 public:
  using reply_type = result<typename C::reply_type>;
  exchange_op(session* s, Handler h) : session_(s), handler_(std::move(h)) {}

  /// `first`: what session::begin() said, or why the command could not be encoded.
  void start(result<session::step> first) { next(std::move(first), true); }
  void operator()(const boost::system::error_code& ec) { next(session_->resume(ec), false); }

  Handler handler_;

 private:
  void next(result<session::step> step, bool initiating) {
    io::stream& s = session_->stream_;
    if (step && *step == session::step::wait_read) return s.async_wait_readable(std::move(*this));
    if (step && *step == session::step::wait_write) return s.async_wait_writable(std::move(*this));
    reply_type r = outcome(std::move(step));
    if (!initiating) return std::move(handler_)(std::move(r));
    // Never complete inside the initiating call.
    auto ex = boost::asio::get_associated_executor(handler_, s.get_executor());
    boost::asio::post(ex, boost::asio::append(std::move(handler_), std::move(r)));
  }

  reply_type outcome(result<session::step>&& step) {
    if (!step) return fail(std::move(step).error());
    return proto::agi::decode<C>(session_->parser_.get());  // the reply's views end here
  }

  session* session_;
};

}  // namespace detail

template <class C>
struct session::initiation {
  session* self;
  template <class Handler>
  void operator()(Handler&& handler, const C& cmd) const {
    detail::exchange_op<C, std::decay_t<Handler>> op{self, std::forward<Handler>(handler)};
    std::string& line = line_scratch();
    line.clear();
    if (auto e = proto::agi::encode(cmd, line); !e) return op.start(fail(std::move(e).error()));
    op.start(self->begin(line));
  }
};

}  // namespace costrix::agi

// The operation takes its handler's executor, allocator and cancellation slot.
template <template <typename, typename> class Associator, class C, class Handler, class Default>
struct boost::asio::associator<Associator, costrix::agi::detail::exchange_op<C, Handler>, Default>
    : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(
      const costrix::agi::detail::exchange_op<C, Handler>& op) noexcept {
    return Associator<Handler, Default>::get(op.handler_);
  }
  static auto get(const costrix::agi::detail::exchange_op<C, Handler>& op, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(op.handler_, d)) {
    return Associator<Handler, Default>::get(op.handler_, d);
  }
};
