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
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

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

class session;
namespace detail {
template <class C>
struct initiation {
  session* self;
  template <class Handler>
  void operator()(Handler&& handler, const C& cmd) const;
};
}  // namespace detail

/// What a command returns: an Asio asynchronous operation that completes with
/// `result<C::reply_type>` (commands.hpp lists each command's reply type).
/// `co_await` it in a coroutine: it is awaited in the caller's own frame, so
/// while the reply is awaited the session holds no coroutine frame of its own,
/// and no receive buffer either. Or start it with any completion token:
/// `s.answer()(token)`.
template <proto::agi::command C>
using operation =
    boost::asio::deferred_async_operation<void(result<typename C::reply_type>), detail::initiation<C>, C>;

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
  /// start() without waiting: true once the whole environment has been read
  /// (usually at once: Asterisk sends it as it connects), false while more is due.
  result<bool> try_start();

  const environment& env() const noexcept { return env_; }
  /// agi_arg_1 ... agi_arg_N.
  std::span<const std::string_view> args() const noexcept { return env_.args(); }
  /// The FastAGI script path ("ivr/main" of agi://host/ivr/main?lang=en).
  std::string_view script() const noexcept { return env_.script(); }
  /// The first value of a query parameter of the script URL.
  std::optional<std::string_view> param(std::string_view key) const { return env_.param(key); }
  bool hung_up() const noexcept { return hung_up_.load(std::memory_order_relaxed); }
  /// Why a failed command closed the connection: `errc::timeout` (`command_timeout`
  /// passed), `errc::disconnected` (Asterisk closed it, or a read or write failed),
  /// `errc::cancelled`, `errc::protocol`, `errc::limit_exceeded`; nullopt while it is whole.
  std::optional<errc> broken_by() const noexcept { return broken_; }
  std::string peer() const { return stream_.peer(); }

  /// Sends any command descriptor; completes with its typed reply.
  template <proto::agi::command C>
  operation<C> send(C cmd) {
    return boost::asio::async_initiate<const boost::asio::deferred_t, void(result<typename C::reply_type>)>(
        detail::initiation<C>{this}, boost::asio::deferred, std::move(cmd));
  }

  /// A command line costrix does not model, sent as given.
  operation<proto::agi::raw> raw(std::string_view line) { return send(proto::agi::raw{line}); }

  /// For transports that learn of the hangup out of band (classic AGI's SIGHUP):
  /// every later command returns `errc::hangup` without being sent.
  /// Safe to call from a signal handler.
  void mark_hung_up() noexcept { hung_up_.store(true, std::memory_order_relaxed); }

  /// Closes the connection (the session ends; Asterisk continues the dialplan).
  void close() noexcept { stream_.close(); }

  // ---- one method per AGI command (proto/agi/commands.hpp has their replies) ----
  // Durations are in the unit Asterisk takes (milliseconds unless the type says seconds);
  // escape digits default to none; string arguments must outlive the co_await.
  operation<proto::agi::answer> answer() { return send(proto::agi::answer{}); }
  operation<proto::agi::asyncagi_break> asyncagi_break() { return send(proto::agi::asyncagi_break{}); }
  operation<proto::agi::channel_status> channel_status(std::string_view channel = {}) { return send(proto::agi::channel_status{channel}); }
  operation<proto::agi::control_stream_file> control_stream_file(std::string_view file, std::string_view escape_digits = {}, std::optional<std::chrono::milliseconds> skip = {}, std::string_view forward = {}, std::string_view rewind = {}, std::string_view pause = {}, std::optional<std::chrono::milliseconds> offset = {}) { return send(proto::agi::control_stream_file{file, escape_digits, skip, forward, rewind, pause, offset}); }
  operation<proto::agi::database_del> database_del(std::string_view family, std::string_view key) { return send(proto::agi::database_del{family, key}); }
  operation<proto::agi::database_deltree> database_deltree(std::string_view family, std::string_view keytree = {}) { return send(proto::agi::database_deltree{family, keytree}); }
  operation<proto::agi::database_get> database_get(std::string_view family, std::string_view key) { return send(proto::agi::database_get{family, key}); }
  operation<proto::agi::database_put> database_put(std::string_view family, std::string_view key, std::string_view value) { return send(proto::agi::database_put{family, key, value}); }
  operation<proto::agi::exec> exec(std::string_view application, std::string_view options = {}) { return send(proto::agi::exec{application, options}); }
  operation<proto::agi::get_data> get_data(std::string_view file, std::optional<std::chrono::milliseconds> timeout = {}, std::optional<int> max_digits = {}) { return send(proto::agi::get_data{file, timeout, max_digits}); }
  operation<proto::agi::get_full_variable> get_full_variable(std::string_view expression, std::string_view channel = {}) { return send(proto::agi::get_full_variable{expression, channel}); }
  operation<proto::agi::get_option> get_option(std::string_view file, std::string_view escape_digits = {}, std::optional<std::chrono::milliseconds> timeout = {}) { return send(proto::agi::get_option{file, escape_digits, timeout}); }
  operation<proto::agi::get_variable> get_variable(std::string_view name) { return send(proto::agi::get_variable{name}); }
  operation<proto::agi::gosub> gosub(std::string_view context, std::string_view extension, std::string_view priority, std::string_view arguments = {}) { return send(proto::agi::gosub{context, extension, priority, arguments}); }
  operation<proto::agi::hangup> hangup(std::string_view channel = {}) { return send(proto::agi::hangup{channel}); }
  operation<proto::agi::noop> noop(std::string_view text = {}) { return send(proto::agi::noop{text}); }
  operation<proto::agi::receive_char> receive_char(std::chrono::milliseconds timeout) { return send(proto::agi::receive_char{timeout}); }
  operation<proto::agi::receive_text> receive_text(std::chrono::milliseconds timeout) { return send(proto::agi::receive_text{timeout}); }
  operation<proto::agi::record_file> record_file(std::string_view file, std::string_view format, std::string_view escape_digits = {}, std::chrono::milliseconds timeout = std::chrono::milliseconds{-1}, std::optional<std::int64_t> offset = {}, bool beep = false, std::optional<std::chrono::seconds> silence = {}) { return send(proto::agi::record_file{file, format, escape_digits, timeout, offset, beep, silence}); }
  operation<proto::agi::say_alpha> say_alpha(std::string_view text, std::string_view escape_digits = {}) { return send(proto::agi::say_alpha{text, escape_digits}); }
  operation<proto::agi::say_date> say_date(std::int64_t time, std::string_view escape_digits = {}) { return send(proto::agi::say_date{time, escape_digits}); }
  operation<proto::agi::say_datetime> say_datetime(std::int64_t time, std::string_view escape_digits = {}, std::string_view format = {}, std::string_view timezone = {}) { return send(proto::agi::say_datetime{time, escape_digits, format, timezone}); }
  operation<proto::agi::say_digits> say_digits(std::string_view number, std::string_view escape_digits = {}) { return send(proto::agi::say_digits{number, escape_digits}); }
  operation<proto::agi::say_number> say_number(std::int64_t number, std::string_view escape_digits = {}, std::string_view gender = {}) { return send(proto::agi::say_number{number, escape_digits, gender}); }
  operation<proto::agi::say_phonetic> say_phonetic(std::string_view text, std::string_view escape_digits = {}) { return send(proto::agi::say_phonetic{text, escape_digits}); }
  operation<proto::agi::say_time> say_time(std::int64_t time, std::string_view escape_digits = {}) { return send(proto::agi::say_time{time, escape_digits}); }
  operation<proto::agi::send_image> send_image(std::string_view image) { return send(proto::agi::send_image{image}); }
  operation<proto::agi::send_text> send_text(std::string_view text) { return send(proto::agi::send_text{text}); }
  operation<proto::agi::set_autohangup> set_autohangup(std::chrono::seconds time) { return send(proto::agi::set_autohangup{time}); }
  operation<proto::agi::set_callerid> set_callerid(std::string_view number) { return send(proto::agi::set_callerid{number}); }
  operation<proto::agi::set_context> set_context(std::string_view context) { return send(proto::agi::set_context{context}); }
  operation<proto::agi::set_extension> set_extension(std::string_view extension) { return send(proto::agi::set_extension{extension}); }
  operation<proto::agi::set_music> set_music(bool on, std::string_view music_class = {}) { return send(proto::agi::set_music{on, music_class}); }
  operation<proto::agi::set_priority> set_priority(std::string_view priority) { return send(proto::agi::set_priority{priority}); }
  operation<proto::agi::set_variable> set_variable(std::string_view name, std::string_view value) { return send(proto::agi::set_variable{name, value}); }
  operation<proto::agi::speech_activate_grammar> speech_activate_grammar(std::string_view grammar) { return send(proto::agi::speech_activate_grammar{grammar}); }
  operation<proto::agi::speech_create> speech_create(std::string_view engine) { return send(proto::agi::speech_create{engine}); }
  operation<proto::agi::speech_deactivate_grammar> speech_deactivate_grammar(std::string_view grammar) { return send(proto::agi::speech_deactivate_grammar{grammar}); }
  operation<proto::agi::speech_destroy> speech_destroy() { return send(proto::agi::speech_destroy{}); }
  operation<proto::agi::speech_load_grammar> speech_load_grammar(std::string_view grammar, std::string_view path) { return send(proto::agi::speech_load_grammar{grammar, path}); }
  operation<proto::agi::speech_recognize> speech_recognize(std::string_view prompt, std::chrono::seconds timeout, std::optional<std::int64_t> offset = {}) { return send(proto::agi::speech_recognize{prompt, timeout, offset}); }
  operation<proto::agi::speech_set> speech_set(std::string_view setting, std::string_view value) { return send(proto::agi::speech_set{setting, value}); }
  operation<proto::agi::speech_unload_grammar> speech_unload_grammar(std::string_view grammar) { return send(proto::agi::speech_unload_grammar{grammar}); }
  operation<proto::agi::stream_file> stream_file(std::string_view file, std::string_view escape_digits = {}, std::optional<std::int64_t> offset = {}) { return send(proto::agi::stream_file{file, escape_digits, offset}); }
  operation<proto::agi::tdd_mode> tdd_mode(proto::agi::tdd_setting mode) { return send(proto::agi::tdd_mode{mode}); }
  operation<proto::agi::verbose> verbose(std::string_view message, std::optional<int> level = {}) { return send(proto::agi::verbose{message, level}); }
  operation<proto::agi::wait_for_digit> wait_for_digit(std::chrono::milliseconds timeout = std::chrono::milliseconds{-1}) { return send(proto::agi::wait_for_digit{timeout}); }
  // ---- end of the command methods ----

 private:
  template <class C, class Handler>
  friend class detail::exchange_op;
  template <class C>
  friend struct detail::initiation;

  // One exchange, as steps an operation drives: begin() writes the encoded
  // `line`, resume() runs after each wait. `wait_read`/`wait_write`: wait for
  // the stream, then resume(); `done`: the reply is in parser_.
  enum class step { wait_read, wait_write, done };
  result<step> begin(std::string_view line);
  result<step> resume(const boost::system::error_code& wait_error);
  static std::string& line_scratch();  // the thread's buffer to encode a command into
  error broken(error e);
  error wait_failed(const boost::system::error_code& ec);
  void command_done(std::size_t index, const error* e) noexcept;  // metrics: count it and its latency

  io::stream& stream_;
  session_options options_;
  io::line_receiver receiver_;
  proto::agi::reply_parser parser_;
  environment env_;
  std::unique_ptr<char[]> unsent_;  // the end of a command the stream did not take at once
  std::uint32_t unsent_size_ = 0;
  std::uint32_t unsent_offset_ = 0;
  io::deadline deadline_;
  std::chrono::steady_clock::time_point sent_at_{};  // while metrics are on
  std::unique_ptr<proto::agi::environment_parser> starting_;  // while the environment arrives
  std::atomic<bool> hung_up_{false};
  std::optional<errc> broken_;  // set once a failure closed the stream
};

namespace detail {

/// Drives one command's exchange: write, wait, read, decode; completes once.
template <class C, class Handler>
class exchange_op {
 public:
  using reply_type = result<typename C::reply_type>;
  exchange_op(session* s, Handler h) : handler_(std::move(h)), session_(s) {}

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
    constexpr std::size_t index = proto::agi::command_index(C::name);
    session_->command_done(index, r.has_error() ? &r.error() : nullptr);
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
template <class Handler>
void detail::initiation<C>::operator()(Handler&& handler, const C& cmd) const {
  exchange_op<C, std::decay_t<Handler>> op{self, std::forward<Handler>(handler)};
  std::string& line = session::line_scratch();
  line.clear();
  if (auto e = proto::agi::encode(cmd, line); !e) return op.start(fail(std::move(e).error()));
  op.start(self->begin(line));
}

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
