#include <costrix/esl/session.hpp>

#include <costrix/log.hpp>
#include <costrix/proto/esl/command.hpp>

#include "../library_metrics.hpp"
#include "log_call.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <random>

namespace costrix::esl {
namespace asio = boost::asio;
namespace wire = proto::esl;

namespace detail {

// Someone awaiting something the reader will deliver: a reply, an
// application's completion, a key, the hangup. The reader sets the outcome
// and cancels the timer; the timer's own expiry is the waiter's timeout.
struct waiter {
  enum class kind { reply, execute, hangup, input, state };  // state: answered, media, bridged
  waiter(io::stream::executor_type ex, kind k) : timer(ex, std::chrono::steady_clock::time_point::max()), what(k) {}
  asio::steady_timer timer;
  kind what;
  bool done = false;
  bool ok = true;  // a reply: +OK (or an api body that is not -ERR)
  std::optional<error> err;
  std::string text;  // a reply's Reply-Text or body
  owned_event ev;    // the connect reply's channel data, an execute's completion

  void wake() {
    done = true;
    timer.cancel();
  }
  void fail(error e) {
    if (done) return;
    err = std::move(e);
    wake();
  }
};

struct exec_waiter : waiter {
  using waiter::waiter;
  std::string uuid;  // the Application-UUID: sent, or learned from CHANNEL_EXECUTE
  std::string app;
  std::string break_on;
  std::optional<char> broke_by;
};

}  // namespace detail

using detail::waiter;


namespace {

std::string_view value_or_empty(const event& e, std::string_view key) { return e.get(key).value_or(std::string_view{}); }

std::optional<char> first_char(std::string_view v) {
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::uint64_t to_u64(std::string_view v) {
  std::uint64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

std::string var(std::string_view name) { return "variable_" + std::string{name}; }

// The values applications leave in channel variables, read from their completion event.
digits digits_from(const event& done, std::string_view var_name) {
  digits d;
  d.value = std::string{value_or_empty(done, var(var_name))};
  d.terminator = first_char(value_or_empty(done, "variable_read_terminator_used"));
  d.status = std::string{value_or_empty(done, "variable_read_result")};
  return d;
}

std::string response_of(const event& done) {
  auto r = done.get("Application-Response");
  return r ? std::string{*r} : std::string{"_none_"};
}

}  // namespace

session::session(io::stream& stream, session_options options)
    : stream_(stream), options_(std::move(options)), parser_(options_.limits) {}

session::~session() = default;

std::optional<std::string_view> session::channel_variable(std::string_view name) const {
  return data_.get(var(name));
}
std::string_view session::destination_number() const noexcept {
  return value_or_empty(data_, "Caller-Destination-Number");
}
std::string_view session::caller_id_number() const noexcept { return value_or_empty(data_, "Caller-Caller-ID-Number"); }

// ---- transport ----

awaitable<result<void>> session::start() {
  ++tasks_;
  asio::co_spawn(stream_.get_executor(), read_loop(), asio::detached);
  std::string cmd;
  (void)wire::encode(wire::connect{}, cmd);
  auto w = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::reply);
  replies_.push_back(w);
  write(cmd);
  auto got = co_await wait(*w, options_.connect_timeout);
  if (!got) co_return fail(std::move(got).error());
  if (!w->ok || w->ev.headers().empty())
    co_return fail(errc::protocol, "the connect reply carries no channel data: " + w->text);
  data_ = std::move(w->ev);
  uuid_ = std::string{value_or_empty(data_, "Unique-ID")};
  state_ = std::string{value_or_empty(data_, "Channel-State")};
  auto answer_state = value_or_empty(data_, "Answer-State");
  answered_ = answer_state == "answered";
  media_ready_ = answered_ || answer_state == "early";
  if (options_.myevents) {
    cmd.clear();
    (void)wire::encode(wire::myevents{}, cmd);
    auto r = co_await send(cmd);
    if (!r) co_return fail(std::move(r).error());
  }
  if (options_.linger) {
    cmd.clear();
    (void)wire::encode(wire::linger{}, cmd);
    auto r = co_await send(cmd);
    if (!r) co_return fail(std::move(r).error());
  }
  co_return ok();
}

awaitable<void> session::shutdown() {
  stream_.close();
  while (tasks_ != 0) {
    idle_ = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::reply);
    auto keep = idle_;
    co_await wait(*keep);
  }
  idle_.reset();
}

void session::task_ended() {
  if (--tasks_ == 0 && idle_) idle_->wake();
}

awaitable<result<void>> session::wait(waiter& w, std::chrono::milliseconds timeout) {
  if (!w.done) {
    if (timeout.count() > 0) w.timer.expires_after(timeout);
    auto [ec] = co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!w.done) {
      if (ec == asio::error::operation_aborted) co_return fail(errc::cancelled);
      co_return fail(errc::timeout);
    }
  }
  if (w.err) co_return fail(*w.err);
  co_return ok();
}

// Writes what the socket takes now; the rest goes out from write_loop, in order.
void session::write(std::string_view bytes) {
  if (closed_) return;
  if (out_.empty()) {
    boost::system::error_code ec;
    std::size_t n = stream_.write_some(bytes, ec);
    if (ec && ec != asio::error::would_block) {
      stream_.close();  // the reader sees it and ends everything
      return;
    }
    metrics::lib::esl().bytes_out.inc(n);
    bytes.remove_prefix(n);
  }
  if (bytes.empty()) return;
  out_ += bytes;
  if (writing_) return;
  writing_ = true;
  ++tasks_;
  asio::co_spawn(stream_.get_executor(), write_loop(), asio::detached);
}

awaitable<void> session::write_loop() {
  while (!out_.empty()) {
    auto [ec] = co_await stream_.async_wait_writable(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    boost::system::error_code wec;
    std::size_t n = stream_.write_some(out_, wec);
    if (wec && wec != asio::error::would_block) {
      stream_.close();
      break;
    }
    metrics::lib::esl().bytes_out.inc(n);
    out_.erase(0, n);
  }
  out_.clear();
  writing_ = false;
  task_ended();
}

awaitable<void> session::read_loop() {
  error why{errc::disconnected, "FreeSWITCH closed the socket"};
  for (;;) {
    std::size_t used = 0;
    bool broken = false;
    for (;;) {
      auto r = parser_.parse(std::string_view{in_}.substr(used));
      if (!r) {
        why = std::move(r).error();
        broken = true;
        break;
      }
      if (!*r) break;
      dispatch((*r)->msg);
      used += (*r)->consumed;
    }
    in_.erase(0, used);
    if (broken) break;
    char chunk[16 * 1024];
    boost::system::error_code ec;
    std::size_t n = stream_.read_some(chunk, ec);
    if (!ec) {
      metrics::lib::esl().bytes_in.inc(n);
      in_.append(chunk, n);
      continue;
    }
    if (ec == asio::error::would_block) {
      auto [wait_error] = co_await stream_.async_wait_readable(asio::as_tuple(asio::use_awaitable));
      if (wait_error) {
        if (wait_error == asio::error::operation_aborted) why = error{errc::disconnected, "the socket was closed"};
        else why = error{errc::disconnected, wait_error.message()};
        break;
      }
      continue;
    }
    if (ec != asio::error::eof) why = error{errc::disconnected, ec.message()};
    break;
  }
  stream_.close();
  end_all(why);
  task_ended();
}

void session::dispatch(const wire::message& m) {
  switch (m.type()) {
    case wire::content_type::command_reply:
    case wire::content_type::api_response: {
      if (replies_.empty()) {
        log_call(log_level::warning, *this, stream_.peer(), {}, fmt::format("esl: a reply nothing waits for: {}", m.reply_text()));
        return;
      }
      auto w = std::move(replies_.front());
      replies_.pop_front();
      w->ok = m.ok();
      std::string_view text = m.reply_text();
      if (m.type() == wire::content_type::command_reply && text.ends_with('\n')) text.remove_suffix(1);
      w->text = std::string{text};
      if (m.has_event_headers()) {  // the connect reply: the channel data
        auto e = decoder_.decode(m);
        if (e) w->ev = owned_event(*e);
      }
      w->wake();
      return;
    }
    case wire::content_type::event_plain:
    case wire::content_type::event_json: {
      auto e = decoder_.decode(m);
      if (!e) {
        log_call(log_level::warning, *this, stream_.peer(), {}, fmt::format("esl: an event that does not decode: {}", e.error().what()));
        return;
      }
      on_event(*e);
      return;
    }
    case wire::content_type::disconnect_notice: {
      // `linger`: the call is gone, the socket stays for the last events;
      // otherwise FreeSWITCH closes the socket next.
      on_hangup(hangup_cause_);
      return;
    }
    default:
      return;
  }
}

void session::on_event(const event& e) {
  if (auto u = e.get("Unique-ID"); u && !uuid_.empty() && *u != uuid_) return;  // another leg's event
  if (auto s = e.get("Channel-State")) state_ = std::string{*s};
  if (auto a = e.get("Answer-State")) {
    if (*a == "answered") answered_ = media_ready_ = true;
    if (*a == "early") media_ready_ = true;
  }
  const std::string_view name = e.name();
  auto wake_watchers = [this](waiter::kind k) {
    std::erase_if(watchers_, [k](const waiter_ptr& w) {
      if (w->what != k) return false;
      w->wake();
      return true;
    });
  };
  if (name == "CHANNEL_EXECUTE") {
    auto app_uuid = value_or_empty(e, "Application-UUID");
    auto app = value_or_empty(e, "Application");
    for (auto& x : executes_)
      if (x->uuid == app_uuid) return;
    for (auto& x : executes_) {
      if (x->uuid.empty() && x->app == app) {
        x->uuid = std::string{app_uuid};
        return;
      }
    }
  } else if (name == "CHANNEL_EXECUTE_COMPLETE") {
    auto app_uuid = value_or_empty(e, "Application-UUID");
    for (auto it = executes_.begin(); it != executes_.end(); ++it) {
      if (!(*it)->uuid.empty() && (*it)->uuid == app_uuid) {
        (*it)->ev = owned_event(e);
        (*it)->wake();
        executes_.erase(it);
        return;
      }
    }
  } else if (name == "DTMF") {
    auto digit = first_char(value_or_empty(e, "DTMF-Digit"));
    if (!digit) return;
    input in;
    in.digit = digit;
    in.duration = std::chrono::milliseconds(to_u64(value_or_empty(e, "DTMF-Duration")) / 8);  // samples at 8 kHz
    in.event = owned_event(e);
    if (inputs_.size() >= options_.max_queued_inputs && !inputs_.empty()) inputs_.pop_front();
    inputs_.push_back(std::move(in));
    wake_watchers(waiter::kind::input);
    for (auto& x : executes_) {
      if (!x->broke_by && x->break_on.find(*digit) != std::string::npos) {
        x->broke_by = digit;
        std::string cmd;
        std::string line = "uuid_break " + uuid_;
        if (wire::encode(wire::api{line}, cmd)) {
          replies_.push_back(std::make_shared<waiter>(stream_.get_executor(), waiter::kind::reply));
          write(cmd);
        }
        break;
      }
    }
  } else if (name == "CHANNEL_ANSWER") {
    answered_ = media_ready_ = true;
    wake_watchers(waiter::kind::state);
  } else if (name == "CHANNEL_PROGRESS_MEDIA") {
    media_ready_ = true;
    wake_watchers(waiter::kind::state);
  } else if (name == "CHANNEL_BRIDGE") {
    bridged_ = true;
    wake_watchers(waiter::kind::state);
  } else if (name == "CHANNEL_UNBRIDGE") {
    bridged_ = false;
  } else if (name == "CHANNEL_HANGUP") {
    hangup_state_ = state_;
    on_hangup(value_or_empty(e, "Hangup-Cause"));
  } else if (std::find(options_.input_events.begin(), options_.input_events.end(), name) !=
             options_.input_events.end()) {
    input in;
    in.event = owned_event(e);
    if (inputs_.size() >= options_.max_queued_inputs && !inputs_.empty()) inputs_.pop_front();
    inputs_.push_back(std::move(in));
    wake_watchers(waiter::kind::input);
  }
}

// Applications in flight end with errc::hangup; the watchers look again.
void session::on_hangup(std::string_view cause_name) {
  if (hung_up_) return;
  hung_up_ = true;
  if (hangup_state_.empty()) hangup_state_ = state_;
  hangup_cause_ = std::string{cause_name};
  for (auto& x : executes_) x->fail(error{errc::hangup, hangup_cause_});
  executes_.clear();
  for (auto& w : watchers_) w->wake();
  watchers_.clear();
}

void session::end_all(const error& e) {
  closed_ = true;
  if (!ended_) ended_ = e;
  for (auto& w : replies_) w->fail(e);
  replies_.clear();
  for (auto& x : executes_) x->fail(hung_up_ ? error{errc::hangup, hangup_cause_} : e);
  executes_.clear();
  for (auto& w : watchers_) w->wake();
  watchers_.clear();
}

std::string session::new_uuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uint64_t a = random(), b = random();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

// ---- the generic paths ----

awaitable<result<std::string>> session::send(std::string_view bytes) {
  if (closed_) co_return fail(ended_.value_or(error{errc::disconnected}));
  auto w = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::reply);
  replies_.push_back(w);  // a timed-out waiter stays queued: its late reply is not another command's
  write(bytes);
  auto got = co_await wait(*w, options_.command_timeout);
  if (!got) metrics::lib::esl().errors[metrics::lib::error_kind(got.error())].inc();
  if (!got) co_return fail(std::move(got).error());
  if (!w->ok) co_return fail(errc::failed, std::move(w->text));
  co_return std::move(w->text);
}

awaitable<result<std::string>> session::command(std::string_view text) {
  std::string bytes{text};
  metrics::lib::esl().commands_other.inc();
  while (bytes.ends_with('\n')) bytes.pop_back();
  bytes += "\n\n";
  co_return co_await send(bytes);
}

awaitable<result<std::string>> session::api(std::string_view command_line) {
  std::string bytes;
  if (auto e = wire::encode(wire::api{command_line}, bytes); !e) co_return fail(std::move(e).error());
  metrics::lib::esl().commands_api.inc();
  metrics::lib::count_esl_api_text(bytes);
  co_return co_await send(bytes);
}

awaitable<result<session::completion>> session::run(std::string_view app, std::string_view arg,
                                                    execute_options options) {
  if (hung_up_) co_return fail(errc::hangup, hangup_cause_);
  if (closed_) co_return fail(ended_.value_or(error{errc::disconnected}));
  std::string app_uuid{options.event_uuid};
  if (app_uuid.empty() && options_.tag_executes) app_uuid = new_uuid();
  wire::execute cmd{.app = app, .arg = arg, .event_lock = options.event_lock.value_or(options_.event_lock), .loops = options.loops,
                    .event_uuid = app_uuid};
  std::string bytes;
  if (auto e = wire::encode(cmd, bytes); !e) co_return fail(std::move(e).error());
  metrics::lib::count_esl_execute(app);
  std::shared_ptr<detail::exec_waiter> x;
  if (options_.myevents) {
    x = std::make_shared<detail::exec_waiter>(stream_.get_executor(), waiter::kind::execute);
    x->uuid = app_uuid;
    x->app = std::string{app};
    x->break_on = std::string{options.break_on};
    executes_.push_back(x);
  }
  auto forget = [this, &x] {
    if (x) std::erase(executes_, x);
  };
  auto replied = co_await send(bytes);
  if (!replied) {
    forget();
    co_return fail(std::move(replied).error());
  }
  completion c;
  if (!x) co_return c;  // without events the reply is all there is
  auto done = co_await wait(*x);
  forget();
  if (!done) co_return fail(std::move(done).error());
  c.done = std::move(x->ev);
  c.broke_by = x->broke_by;
  co_return c;
}

awaitable<result<void>> session::run_void(std::string_view app, std::string_view arg) {
  execute_options o;
  auto r = co_await run(app, arg, o);
  if (!r) co_return fail(std::move(r).error());
  co_return ok();
}

awaitable<result<owned_event>> session::execute_event(std::string_view app, std::string_view arg,
                                                      execute_options options) {
  auto r = co_await run(app, arg, options);
  if (!r) co_return fail(std::move(r).error());
  co_return std::move(r->done);
}

awaitable<result<std::string>> session::execute(std::string_view app, std::string_view arg, execute_options options) {
  auto r = co_await run(app, arg, options);
  if (!r) co_return fail(std::move(r).error());
  co_return response_of(r->done);
}

awaitable<result<std::string>> session::execute_string(std::string_view app_and_arg) {
  auto space = app_and_arg.find(' ');
  std::string_view app = app_and_arg.substr(0, space);
  std::string_view arg = space == std::string_view::npos ? std::string_view{} : app_and_arg.substr(space + 1);
  execute_options o;
  co_return co_await execute(app, arg, o);
}

// ---- the verbs: an application, its argument, what its completion says ----

awaitable<result<void>> session::answer() { co_return co_await run_void("answer", {}); }
awaitable<result<void>> session::pre_answer() { co_return co_await run_void("pre_answer", {}); }

awaitable<result<void>> session::hangup(cause c) { co_return co_await hangup(to_string(c)); }

awaitable<result<void>> session::hangup(std::string_view cause_name) {
  std::string bytes;
  if (auto e = wire::encode(wire::hangup{.cause = cause_name}, bytes); !e) co_return fail(std::move(e).error());
  auto r = co_await send(bytes);
  if (!r) co_return fail(std::move(r).error());
  co_return ok();
}

awaitable<result<std::optional<std::string>>> session::get_variable(std::string_view name) {
  std::string line = fmt::format("uuid_getvar {} {}", uuid_, name);
  auto r = co_await api(line);
  if (!r) co_return fail(std::move(r).error());
  if (*r == "_undef_") co_return std::optional<std::string>{};
  co_return std::optional<std::string>{std::move(*r)};
}

awaitable<result<void>> session::set_variable(std::string_view name, std::string_view value) {
  std::string arg = fmt::format("{}={}", name, value);
  co_return co_await run_void("set", arg);
}

awaitable<result<playback>> session::stream_file(std::string_view file, std::uint64_t sample_offset,
                                                 std::string_view break_on) {
  std::string arg = sample_offset > 0 ? fmt::format("{}@@{}", file, sample_offset) : std::string{file};
  execute_options o{.break_on = break_on};
  auto r = co_await run("playback", arg, o);
  if (!r) co_return fail(std::move(r).error());
  playback p;
  p.digit = r->broke_by ? r->broke_by : first_char(value_or_empty(r->done, "variable_playback_terminator_used"));
  p.response = response_of(r->done);
  p.samples = to_u64(value_or_empty(r->done, "variable_playback_samples"));
  co_return p;
}

awaitable<result<digits>> session::play_and_get_digits(digits_options o) {
  // min max tries timeout terminators file invalid_file var_name regexp [digit_timeout [transfer_on_failure]]
  std::string prompt{o.prompt.empty() ? std::string_view{"silence_stream://0"} : o.prompt};
  std::string arg = fmt::format("{} {} {} {} {} {} {} {} {}", o.min, o.max, o.tries, o.timeout.count(),
                                o.terminators, prompt, o.invalid_prompt, o.var_name, o.regex);
  if (o.digit_timeout.count() > 0 || !o.transfer_on_failure.empty())
    arg += fmt::format(" {}", (o.digit_timeout.count() > 0 ? o.digit_timeout : o.timeout).count());
  if (!o.transfer_on_failure.empty()) arg += fmt::format(" {}", o.transfer_on_failure);
  std::string var_name{o.var_name};
  execute_options eo;
  auto r = co_await run("play_and_get_digits", arg, eo);
  if (!r) co_return fail(std::move(r).error());
  co_return digits_from(r->done, var_name);
}

awaitable<result<digits>> session::read(int min, int max, std::string_view prompt, std::chrono::milliseconds timeout,
                                        std::string_view terminators) {
  // min max file var_name timeout terminators
  std::string arg = fmt::format("{} {} {} costrix_digits {} {}", min, max, prompt, timeout.count(), terminators);
  execute_options eo;
  auto r = co_await run("read", arg, eo);
  if (!r) co_return fail(std::move(r).error());
  co_return digits_from(r->done, "costrix_digits");
}

awaitable<result<digits>> session::get_digits(int max, std::string_view terminators,
                                              std::chrono::milliseconds timeout,
                                              std::chrono::milliseconds digit_timeout) {
  std::string arg = fmt::format("1 {} silence_stream://0 costrix_digits {} {}", max, timeout.count(),
                                terminators.empty() ? std::string_view{"none"} : terminators);
  if (digit_timeout.count() > 0) arg += fmt::format(" {}", digit_timeout.count());
  execute_options eo;
  auto r = co_await run("read", arg, eo);
  if (!r) co_return fail(std::move(r).error());
  co_return digits_from(r->done, "costrix_digits");
}

awaitable<result<std::string>> session::collect_digits(std::size_t max, std::chrono::milliseconds timeout) {
  std::string got;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (got.size() < max) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto in = co_await next_input(left);
    if (!in) {
      if (in.error() == errc::timeout) break;
      if (got.empty()) co_return fail(std::move(in).error());
      break;
    }
    if (in->digit) got += *in->digit;
  }
  co_return got;
}

awaitable<result<void>> session::flush_digits() {
  std::erase_if(inputs_, [](const input& i) { return i.digit.has_value(); });
  co_return co_await run_void("flush_dtmf", {});
}

void session::flush_events() {
  std::erase_if(inputs_, [](const input& i) { return !i.digit.has_value(); });
}

awaitable<result<recording>> session::record_file(record_options o) {
  // path [time_limit_secs [silence_thresh [silence_hits]]]
  std::string arg = fmt::format("{} {} {} {}", o.file, o.max_length.count(), o.silence_threshold,
                                o.silence_seconds.count());
  execute_options eo;
  auto r = co_await run("record", arg, eo);
  if (!r) co_return fail(std::move(r).error());
  recording rec;
  rec.silence = value_or_empty(r->done, "variable_silence_hits_exhausted") == "true";
  rec.completion_cause = std::string{value_or_empty(r->done, "variable_record_completion_cause")};
  rec.length = std::chrono::milliseconds(to_u64(value_or_empty(r->done, "variable_record_ms")));
  rec.terminator = first_char(value_or_empty(r->done, "variable_playback_terminator_used"));
  co_return rec;
}

awaitable<result<void>> session::say(say_options o) {
  // module[:lang] type method [gender] text
  std::string arg = o.gender.empty() ? fmt::format("{} {} {} {}", o.language, o.type, o.method, o.text)
                                     : fmt::format("{} {} {} {} {}", o.language, o.type, o.method, o.gender, o.text);
  co_return co_await run_void("say", arg);
}

awaitable<result<void>> session::say_phrase(std::string_view name, std::string_view data, std::string_view language) {
  if (!language.empty()) {  // the phrase application takes its language from the channel
    auto set = co_await set_variable("language", language);
    if (!set) co_return set;
  }
  std::string arg = data.empty() ? std::string{name} : fmt::format("{},{}", name, data);
  co_return co_await run_void("phrase", arg);
}

void session::set_tts_params(std::string_view engine, std::string_view voice) {
  tts_engine_ = std::string{engine};
  tts_voice_ = std::string{voice};
}

awaitable<result<void>> session::speak(std::string_view text) {
  std::string arg = fmt::format("{}|{}|{}", tts_engine_, tts_voice_, text);
  co_return co_await run_void("speak", arg);
}

awaitable<result<void>> session::sleep(std::chrono::milliseconds time) {
  std::string arg = std::to_string(time.count());
  co_return co_await run_void("sleep", arg);
}

awaitable<result<void>> session::transfer(std::string_view extension, std::string_view dialplan,
                                          std::string_view context) {
  std::string arg = fmt::format("{} {} {}", extension, dialplan, context);
  co_return co_await run_void("transfer", arg);
}

awaitable<result<void>> session::send_event(std::string_view name, std::vector<wire::header> headers,
                                            std::string_view body) {
  headers.push_back({"Unique-ID", uuid_});
  std::string bytes;
  if (auto e = wire::encode(wire::sendevent{.name = name, .headers = std::move(headers), .body = body}, bytes); !e)
    co_return fail(std::move(e).error());
  auto r = co_await send(bytes);
  if (!r) co_return fail(std::move(r).error());
  co_return ok();
}

awaitable<result<void>> session::set_auto_hangup(bool on) {
  if (on) co_return ok();  // closing the socket without `resume` ends the call
  std::string bytes;
  (void)wire::encode(wire::resume{}, bytes);
  auto r = co_await send(bytes);
  if (!r) co_return fail(std::move(r).error());
  co_return ok();
}

awaitable<result<void>> session::wait_for_answer(std::chrono::milliseconds timeout) {
  co_return co_await wait_until(answered_, timeout, "the call was not answered in time");
}

awaitable<result<void>> session::wait_for_media(std::chrono::milliseconds timeout) {
  co_return co_await wait_until(media_ready_, timeout, "no media in time");
}

awaitable<result<void>> session::wait_for_bridge(std::chrono::milliseconds timeout) {
  co_return co_await wait_until(bridged_, timeout, "the call was not bridged in time");
}

awaitable<result<void>> session::wait_until(const bool& flag, std::chrono::milliseconds timeout,
                                            std::string_view what) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (flag) co_return ok();
    if (hung_up_) co_return fail(errc::hangup, hangup_cause_);
    if (closed_) co_return fail(ended_.value_or(error{errc::disconnected}));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return fail(errc::timeout, std::string{what});
    auto w = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::state);
    watchers_.push_back(w);
    auto r = co_await wait(*w, left);
    if (!r) {
      std::erase(watchers_, w);
      if (r.error() == errc::timeout) continue;  // looked at again above
      co_return r;
    }
  }
}

awaitable<result<void>> session::console_log(std::string_view level, std::string_view text) {
  std::string arg = fmt::format("{} {}", level, text);
  co_return co_await run_void("log", arg);
}

awaitable<result<void>> session::break_playback(bool all) {
  std::string line = all ? fmt::format("uuid_break {} all", uuid_) : fmt::format("uuid_break {}", uuid_);
  auto r = co_await api(line);
  if (!r) co_return fail(std::move(r).error());
  co_return ok();
}

// ---- input and hangup ----

awaitable<result<input>> session::next_input(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!inputs_.empty()) {
      input in = std::move(inputs_.front());
      inputs_.pop_front();
      co_return in;
    }
    if (hung_up_) co_return fail(errc::hangup, hangup_cause_);
    if (closed_) co_return fail(ended_.value_or(error{errc::disconnected}));
    std::chrono::milliseconds left{0};
    if (timeout.count() > 0) {
      left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) co_return fail(errc::timeout, "no input in time");
    }
    auto w = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::input);
    watchers_.push_back(w);
    auto r = co_await wait(*w, left);
    if (!r) {
      std::erase(watchers_, w);
      co_return fail(std::move(r).error());
    }
  }
}

awaitable<result<std::string>> session::hung_up() {
  for (;;) {
    if (hung_up_) co_return hangup_cause_;
    if (closed_) co_return fail(ended_.value_or(error{errc::disconnected}));
    auto w = std::make_shared<waiter>(stream_.get_executor(), waiter::kind::hangup);
    watchers_.push_back(w);
    auto r = co_await wait(*w);
    if (!r) {
      std::erase(watchers_, w);
      co_return fail(std::move(r).error());
    }
  }
}

}  // namespace costrix::esl
