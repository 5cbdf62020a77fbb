#include <costrix/sim/esl_caller.hpp>

#include <costrix/io/deadline.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <deque>
#include <sstream>

namespace costrix::sim {
namespace asio = boost::asio;

namespace {

constexpr std::string_view core_uuid = "dede5cb4-ead3-45dc-9816-404c8f61d547";
constexpr std::string_view goodbye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

// As switch_url_encode leaves them: letters, digits and a few marks stay.
std::string url_encode(std::string_view v) {
  std::string out;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view{"-_.!~*'()/,@"}.find(c) != std::string_view::npos)
      out += c;
    else
      out += fmt::format("%{:02X}", u);
  }
  return out;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string{s}};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int to_int(std::string_view s, int fallback) {
  int n = fallback;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// One command as the server wrote it: its line, headers and body.
struct command {
  std::string line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string_view get(std::string_view key) const {
    for (auto& [k, v] : headers)
      if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return v;
    return {};
  }
};

struct pending_execute {
  std::string app, arg, uuid;
};

const app_rule default_rule{};

class channel {
 public:
  channel(io::stream& s, esl_call call)
      : s_(s), call_(std::move(call)), app_timer_(s.get_executor()), idle_(s.get_executor()) {
    call_.variables.emplace("uuid", call_.uuid);
    call_.variables.emplace("channel_name", name());
  }

  awaitable<result<esl_report>> run() {
    using namespace asio::experimental::awaitable_operators;
    co_await (read_commands() && run_applications());
    if (broken_) co_return fail(*broken_);
    report_.variables = call_.variables;
    co_return std::move(report_);
  }

 private:
  std::string name() const { return "loopback/" + call_.destination_number + "-b"; }

  // ---- writing ----
  awaitable<void> flush() {
    if (flushing_) co_return;
    flushing_ = true;
    while (!out_.empty() && s_.is_open()) {
      std::string chunk = std::move(out_);
      out_.clear();
      auto w = co_await s_.write_all(chunk);
      if (!w) break;
    }
    flushing_ = false;
    if (closing_ && out_.empty()) {
      done_ = true;
      s_.close();
      wake_runner();
    }
  }
  void reply(std::string_view text) { out_ += fmt::format("Content-Type: command/reply\nReply-Text: {}\n\n", text); }
  void api_response(std::string_view body) {
    out_ += fmt::format("Content-Type: api/response\nContent-Length: {}\n\n{}", body.size(), body);
  }

  // The channel's headers, as FreeSWITCH puts on every event of it.
  std::string channel_headers() const {
    std::string h;
    auto add = [&h](std::string_view k, std::string_view v) { h += fmt::format("{}: {}\n", k, url_encode(v)); };
    add("Channel-State", hung_up_ ? "CS_HANGUP" : "CS_EXECUTE");
    add("Channel-Call-State", hung_up_ ? "HANGUP" : answered_ ? "ACTIVE" : "RINGING");
    add("Channel-Name", name());
    add("Unique-ID", call_.uuid);
    add("Call-Direction", "inbound");
    add("Answer-State", hung_up_ ? "hangup" : answered_ ? "answered" : "ringing");
    if (hung_up_) add("Hangup-Cause", report_.hangup_cause);
    add("Caller-Caller-ID-Number", call_.caller_id_number);
    add("Caller-Destination-Number", call_.destination_number);
    add("Caller-Unique-ID", call_.uuid);
    add("Caller-Context", call_.context);
    add("Caller-Channel-Name", name());
    for (auto& [k, v] : call_.variables) add("variable_" + k, v);
    return h;
  }

  void emit(std::string_view event_name, std::string_view extra = {}) {
    if (!events_) return;
    std::string body = fmt::format("Event-Name: {}\nCore-UUID: {}\nFreeSWITCH-Hostname: sim\nEvent-Sequence: {}\n{}{}\n",
                                   event_name, core_uuid, ++sequence_, channel_headers(), extra);
    out_ += fmt::format("Content-Length: {}\nContent-Type: text/event-plain\n\n{}", body.size(), body);
  }

  std::string app_headers(const pending_execute& x, std::string_view response = {}) {
    std::string h = fmt::format("Application: {}\n", x.app);
    if (!x.arg.empty()) h += fmt::format("Application-Data: {}\n", url_encode(x.arg));
    if (!response.empty()) h += fmt::format("Application-Response: {}\n", url_encode(response));
    h += fmt::format("Application-UUID: {}\n", url_encode(x.uuid));
    return h;
  }

  // ---- the call ----
  void hangup(std::string_view cause) {
    if (hung_up_) return;
    hung_up_ = true;
    report_.hung_up = true;
    report_.hangup_cause = std::string{cause};
    emit("CHANNEL_HANGUP");
    app_timer_.cancel();
    if (!running_) after_hangup();
  }
  void after_hangup() {
    emit("CHANNEL_HANGUP_COMPLETE");
    if (linger_) {
      report_.lingered = true;
      out_ += fmt::format(
          "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {}\nContent-Disposition: linger\n"
          "Channel-Name: {}\nLinger-Time: -1\nContent-Length: 0\n\n",
          call_.uuid, name());
    } else {
      disconnect();
    }
  }
  void disconnect() {
    out_ += fmt::format(
        "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {}\nContent-Disposition: disconnect\n"
        "Content-Length: {}\n\n{}",
        call_.uuid, goodbye.size(), goodbye);
    closing_ = true;
  }

  const app_rule& rule(std::string_view app) const {
    if (auto it = call_.rules.find(app); it != call_.rules.end()) return it->second;
    if (auto it = call_.rules.find("*"); it != call_.rules.end()) return it->second;
    return default_rule;
  }

  std::optional<char> take_key() {
    if (call_.dtmf.empty()) return std::nullopt;
    char c = call_.dtmf.front();
    call_.dtmf.erase(0, 1);
    return c;
  }
  void press(char key) {
    std::string extra = fmt::format("DTMF-Digit: {}\nDTMF-Duration: 2000\nDTMF-Source: UNKNOWN\n", url_encode({&key, 1}));
    emit("DTMF", extra);
  }

  // Digits for play_and_get_digits and read: until the terminator or `max`.
  void collect(int max, std::string_view terminators, const std::string& var) {
    std::string got;
    std::string terminator;
    while (static_cast<int>(got.size()) < max) {
      auto key = take_key();
      if (!key) break;
      press(*key);
      if (terminators.find(*key) != std::string_view::npos) {
        terminator.assign(1, *key);
        break;
      }
      got += *key;
    }
    call_.variables[var] = got;
    call_.variables["read_terminator_used"] = terminator;
    call_.variables["read_result"] = got.empty() ? "timeout" : "success";
  }

  static bool known(std::string_view app) {
    for (std::string_view a : {"answer", "pre_answer", "playback", "play_and_get_digits", "read", "record", "set",
                               "export", "hangup", "sleep", "say", "phrase", "speak", "transfer", "log",
                               "flush_dtmf", "break", "park", "echo", "bridge"})
      if (a == app) return true;
    return false;
  }

  // Runs one application as the channel would; its events go out as it goes.
  awaitable<void> execute(pending_execute x) {
    const std::size_t index = report_.executed.size();
    report_.executed.push_back({x.app, x.arg, x.uuid, {}});
    if (hung_up_) co_return;
    running_ = true;
    emit("CHANNEL_EXECUTE", app_headers(x));
    const app_rule& r = rule(x.app);
    std::string response = "_none_";
    if (!known(x.app) && call_.rules.find(x.app) == call_.rules.end()) {
      // FreeSWITCH hangs the call up when it has no such application.
      running_ = false;
      hangup("DESTINATION_OUT_OF_ORDER");
      co_await flush();
      co_return;
    }
    for (char key : r.press) press(key);
    auto args = words(x.arg);
    auto arg = [&](std::size_t i) { return i < args.size() ? std::string_view{args[i]} : std::string_view{}; };
    if (x.app == "answer") {
      if (!answered_) {
        answered_ = true;
        emit("CHANNEL_ANSWER");
      }
    } else if (x.app == "pre_answer") {
      emit("CHANNEL_PROGRESS_MEDIA");
    } else if (x.app == "playback") {
      response = "FILE PLAYED";
      call_.variables["playback_samples"] = std::to_string(call_.file_samples);
      call_.variables["playback_terminator_used"] = "";
    } else if (x.app == "play_and_get_digits") {
      // min max tries timeout terminators file invalid_file var_name regexp ...
      collect(to_int(arg(1), 1), arg(4), std::string{arg(7).empty() ? "pagd_digits" : arg(7)});
    } else if (x.app == "read") {
      // min max file var_name timeout terminators
      collect(to_int(arg(1), 1), arg(5), std::string{arg(3)});
    } else if (x.app == "record") {
      call_.variables["record_ms"] = "1000";
      call_.variables["silence_hits_exhausted"] = "false";
      call_.variables["record_completion_cause"] = "success-maxtime";
    } else if (x.app == "set" || x.app == "export") {
      auto eq = x.arg.find('=');
      if (eq != std::string::npos) call_.variables[x.arg.substr(0, eq)] = x.arg.substr(eq + 1);
    } else if (x.app == "hangup") {
      running_ = false;
      hangup(x.arg.empty() ? std::string_view{"NORMAL_CLEARING"} : std::string_view{x.arg});
    }
    if (call_.hangup_during && *call_.hangup_during == index) hangup(call_.hangup_cause);
    if (!hung_up_ && (r.hold || r.delay.count() > 0)) {
      broken_by_break_ = false;
      if (r.hold) app_timer_.expires_at(std::chrono::steady_clock::time_point::max());
      else app_timer_.expires_after(r.delay);
      co_await flush();
      co_await app_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    for (auto& [k, v] : r.set) call_.variables[k] = v;
    if (r.response) response = *r.response;
    call_.variables["current_application_response"] = response;
    report_.executed[index].response = response;
    bool was_running = running_;
    running_ = false;
    if (was_running || x.app != "hangup") emit("CHANNEL_EXECUTE_COMPLETE", app_headers(x, response));
    if (hung_up_ && x.app != "hangup") after_hangup();
    co_await flush();
  }

  void wake_runner() { idle_.cancel(); }

  awaitable<void> run_applications() {
    while (!done_) {
      if (queue_.empty()) {
        idle_.expires_at(std::chrono::steady_clock::time_point::max());
        co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      pending_execute x = std::move(queue_.front());
      queue_.pop_front();
      co_await execute(std::move(x));
    }
  }

  awaitable<result<command>> read_command(io::line_reader& reader) {
    command c;
    for (;;) {
      auto line = co_await reader.read_line();
      if (!line) co_return fail(std::move(line).error());
      if (c.line.empty()) {
        if (line->empty()) continue;
        c.line = std::string{*line};
        continue;
      }
      if (line->empty()) break;
      auto colon = line->find(':');
      std::string_view key = line->substr(0, colon);
      std::string_view value = colon == std::string_view::npos ? std::string_view{} : line->substr(colon + 1);
      while (value.starts_with(' ')) value.remove_prefix(1);
      c.headers.emplace_back(std::string{key}, std::string{value});
    }
    if (auto n = to_int(c.get("Content-Length"), 0); n > 0) {
      while (static_cast<int>(c.body.size()) < n) {
        auto line = co_await reader.read_line();
        if (!line) co_return fail(std::move(line).error());
        c.body += *line;
        if (static_cast<int>(c.body.size()) < n) c.body += '\n';
      }
    }
    co_return c;
  }

  awaitable<void> read_commands() {
    io::line_reader reader{s_, 256 * 1024};
    while (!closing_) {
      auto got = co_await read_command(reader);
      if (!got) {
        if (!reader.at_eof() && !closing_ && got.error() != errc::cancelled) broken_ = got.error();
        break;
      }
      co_await handle(*got);
      co_await flush();
    }
    done_ = true;
    app_timer_.cancel();
    wake_runner();
  }

  awaitable<void> handle(const command& c) {
    std::string record = c.line;
    for (auto& [k, v] : c.headers) record += fmt::format("\n{}: {}", k, v);
    report_.commands.push_back(std::move(record));
    const std::string& line = c.line;
    if (!connected_) {
      if (line != "connect") co_return;  // FreeSWITCH waits for `connect` before anything
      connected_ = true;
      std::string h = fmt::format("Event-Name: CHANNEL_DATA\nCore-UUID: {}\nFreeSWITCH-Hostname: sim\n", core_uuid);
      h += channel_headers();
      h += fmt::format("Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: {}\nControl: full\n\n",
                       call_.async ? "async" : "static");
      out_ += h;
      co_return;
    }
    if (line == "myevents" || line.starts_with("myevents ")) {
      events_ = true;
      reply("+OK Events Enabled");
    } else if (line == "linger" || line.starts_with("linger ")) {
      linger_ = true;
      reply("+OK will linger");
    } else if (line == "nolinger") {
      linger_ = false;
      reply("+OK will not linger");
    } else if (line == "resume") {
      report_.resumed = true;
      reply("+OK");
    } else if (line == "exit") {
      reply("+OK bye");
      disconnect();
    } else if (line.starts_with("api ")) {
      api(line.substr(4));
    } else if (line.starts_with("sendevent")) {
      reply(fmt::format("+OK {}", core_uuid));
    } else if (line == "sendmsg" || line.starts_with("sendmsg ")) {
      co_await sendmsg(c);
    } else {
      reply("-ERR command not found");
    }
  }

  void api(std::string_view text) {
    auto w = words(text);
    if (w.size() >= 3 && w[0] == "uuid_getvar") {
      auto it = call_.variables.find(w[2]);
      api_response(it == call_.variables.end() ? std::string{"_undef_"} : it->second);
    } else if (w.size() >= 2 && w[0] == "uuid_break") {
      app_timer_.cancel();  // the running prompt ends
      api_response("+OK");
    } else {
      api_response(fmt::format("-ERR {} Command not found!\n", w.empty() ? std::string{} : w[0]));
    }
  }

  awaitable<void> sendmsg(const command& c) {
    std::string_view what = c.get("call-command");
    if (what == "hangup") {
      reply("+OK");
      std::string_view cause = c.get("hangup-cause");
      hangup(cause.empty() ? std::string_view{"NORMAL_CLEARING"} : cause);
      co_return;
    }
    if (what != "execute") {
      reply("+OK");
      co_return;
    }
    pending_execute x;
    x.app = std::string{c.get("execute-app-name")};
    x.arg = c.body.empty() ? std::string{c.get("execute-app-arg")} : c.body;
    x.uuid = std::string{c.get("Event-UUID")};
    if (x.uuid.empty()) x.uuid = fmt::format("{}-sim-{:04}", call_.uuid.substr(0, 8), ++generated_);
    if (hung_up_) {  // lingering: FreeSWITCH says +OK and runs nothing
      reply("+OK");
      co_return;
    }
    if (!call_.async) {  // a static socket replies once the application has run
      co_await execute(std::move(x));
      reply("+OK");
      co_return;
    }
    reply("+OK");
    co_await flush();
    queue_.push_back(std::move(x));
    wake_runner();
  }

  io::stream& s_;
  esl_call call_;
  esl_report report_;
  asio::steady_timer app_timer_;  // the running application's length
  asio::steady_timer idle_;       // the application runner waits here for work
  std::deque<pending_execute> queue_;
  std::string out_;
  std::optional<error> broken_;
  std::uint64_t sequence_ = 500;
  unsigned generated_ = 0;
  bool connected_ = false, events_ = false, linger_ = false, answered_ = false, hung_up_ = false;
  bool running_ = false, flushing_ = false, closing_ = false, done_ = false, broken_by_break_ = false;
};

}  // namespace

awaitable<result<esl_report>> play_esl(io::stream& s, esl_call call) {
  channel ch{s, std::move(call)};
  co_return co_await ch.run();
}

awaitable<result<esl_report>> call_esl_outbound(asio::ip::tcp::endpoint server, esl_call call,
                                                std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket{ex};
  auto [ec] = co_await socket.async_connect(server, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return fail(errc::disconnected, "connect: " + ec.message());
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // replies and events go out at once, not behind a delayed ACK
  auto* ctx_ex = socket.get_executor().target<io::stream::executor_type>();
  if (ctx_ex == nullptr) co_return fail(errc::invalid_argument, "call_esl_outbound runs on an io_context's executor");
  io::stream stream = io::stream::adopt(*ctx_ex, socket.release());
  io::deadline cut{stream};
  cut.arm(limit);
  auto r = co_await play_esl(stream, std::move(call));
  cut.disarm();
  if (cut.expired()) co_return fail(errc::timeout, "the call lasted over " + std::to_string(limit.count()) + " ms");
  co_return r;
}

}  // namespace costrix::sim
