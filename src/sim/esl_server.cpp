#include <costrix/sim/esl_server.hpp>

#include "server_clients.hpp"

#include <costrix/io/listener.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/log.hpp>
#include <costrix/proto/ami/message.hpp>  // iequals

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <set>

namespace costrix::sim {
namespace asio = boost::asio;
using asio::ip::tcp;
using proto::ami::iequals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

constexpr std::string_view goodbye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

// switch_url_encode as FreeSWITCH applies it to plain event values: unsafe
// bytes become %XX; a '%' already followed by two hex digits is left alone.
std::string url_encode(std::string_view s) {
  static constexpr std::string_view unsafe = "\r\n \"#%&+:;<=>?@[\\]^`{|}";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    bool escaped_already = s[i] == '%' && i + 2 < s.size() &&
                           std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                           std::isxdigit(static_cast<unsigned char>(s[i + 2]));
    if (u < 0x20 || u >= 0x7f || (unsafe.find(s[i]) != std::string_view::npos && !escaped_already))
      out += fmt::format("%{:02X}", u);
    else out += s[i];
  }
  return out;
}

std::string json_string(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string reply(std::string_view text) {
  return fmt::format("Content-Type: command/reply\nReply-Text: {}\n\n", text);
}

std::string api_response(std::string_view body) {
  return fmt::format("Content-Type: api/response\nContent-Length: {}\n\n{}", body.size(), body);
}

std::string disconnect_notice() {
  return fmt::format("Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{}", goodbye.size(), goodbye);
}

std::string_view header(const esl_headers& h, std::string_view key) {
  for (const auto& [k, v] : h)
    if (iequals(k, key)) return v;
  return {};
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// One command from a client: its line, its headers, its body.
struct command {
  std::string line;
  esl_headers headers;
  std::string body;
};

// Frames one command from the front of `in` (lines end with "\n" or "\r\n"; an
// empty line ends the headers; Content-Length announces a body). nullopt: more bytes needed.
std::optional<command> frame(std::string& in, std::size_t& consumed) {
  std::size_t pos = 0;
  while (pos < in.size() && (in[pos] == '\n' || in[pos] == '\r')) ++pos;  // empty lines between commands
  command c;
  bool first = true;
  std::size_t length = 0;
  for (;;) {
    auto nl = in.find('\n', pos);
    if (nl == std::string::npos) return std::nullopt;
    std::string_view line(in.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) break;
    if (first) {
      c.line = std::string(line);
      first = false;
      continue;
    }
    auto colon = line.find(':');
    std::string_view key = line.substr(0, colon), value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (iequals(key, "Content-Length")) std::from_chars(value.data(), value.data() + value.size(), length);
    c.headers.emplace_back(std::string(key), std::string(value));
  }
  if (in.size() - pos < length) return std::nullopt;
  c.body = in.substr(pos, length);
  consumed = pos + length;
  return c;
}

struct client : detail::server_client {
  client(esl_server::executor_type ex, int fd) : server_client(io::stream::adopt(ex, fd)) {}
  bool authed = false;
  // The subscription, as mod_event_socket keeps it.
  bool events_on = false;
  bool all = false;
  bool json = false;
  std::set<std::string, std::less<>> names;       // upper case
  std::set<std::string, std::less<>> subclasses;  // as given
  esl_headers filters;
};

struct channel {
  std::string uuid, name, dest, context = "default", cid_name = "Outbound Call", cid_num = "0000000000";
  std::string application = "park", application_data;
  std::string state = "CS_EXECUTE", callstate = "ACTIVE";
  std::string bridged;  // the other leg's uuid
  std::int64_t created = 0;
  esl_headers variables;

  std::string_view var(std::string_view k) const { return header(variables, k); }
  void set(std::string_view k, std::string_view v) {
    for (auto& [key, value] : variables)
      if (key == k) {
        value = std::string(v);
        return;
      }
    variables.emplace_back(std::string(k), std::string(v));
  }
  void unset(std::string_view k) {
    std::erase_if(variables, [&](const auto& kv) { return kv.first == k; });
  }
};

constexpr std::array<std::string_view, 38> channel_columns{
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num", "ip_addr", "dest",
    "application", "application_data", "dialplan", "context", "read_codec", "read_rate", "read_bit_rate",
    "write_codec", "write_rate", "write_bit_rate", "secure", "hostname", "presence_id", "presence_data",
    "accountcode", "callstate", "callee_name", "callee_num", "callee_direction", "call_uuid", "sent_callee_name",
    "sent_callee_num", "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest", "initial_dialplan",
    "initial_context"};

}  // namespace

struct esl_server::state : std::enable_shared_from_this<state>, detail::server_clients<esl_server::state, client> {
  static constexpr std::string_view log_name = "esl sim";
  using client_ptr = std::shared_ptr<client>;

  state(executor_type e, esl_server_options o) : ex(e), opts(std::move(o)), rng(std::random_device{}()) {
    core_uuid = new_uuid();
  }

  executor_type ex;
  esl_server_options opts;
  tcp::endpoint endpoint;
  std::atomic<std::uint16_t> port{0};

  // Executor only.
  std::shared_ptr<tcp::acceptor> acceptor;
  bool stopped = false;
  std::vector<client_ptr> clients;
  std::map<std::string, channel, std::less<>> channels;
  std::set<asio::steady_timer*> timers;
  std::uint64_t sequence = 1, sessions = 0, flood_generation = 0;
  steady_clock::time_point booted = steady_clock::now();
  std::mt19937_64 rng;
  std::string core_uuid;

  // Any thread.
  mutable std::mutex mutex;
  esl_server_stats counters;
  std::map<std::string, milliseconds, std::less<>> delays;

  std::string new_uuid() {
    std::uint64_t a = rng(), b = rng();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0x0fff,
                       0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
  }

  void post(std::function<void()> f) {
    asio::post(ex, [self = shared_from_this(), f = std::move(f)] { f(); });
  }

  milliseconds delay_of(std::string_view api) {
    std::lock_guard lock(mutex);
    auto it = delays.find(api);
    if (it == delays.end()) it = delays.find("*");
    return it == delays.end() ? milliseconds{0} : it->second;
  }

  void count(std::string_view first_word, std::string_view api = {}) {
    std::lock_guard lock(mutex);
    auto bump = [](auto& map, std::string_view key) {
      auto it = map.find(key);
      if (it == map.end()) it = map.emplace(std::string(key), 0).first;
      ++it->second;
    };
    if (!first_word.empty()) bump(counters.commands, first_word);
    if (!api.empty()) bump(counters.apis, api);
  }

  // ---- listening and connections

  result<std::shared_ptr<tcp::acceptor>> bind() {
    auto acc = io::listen_reuseport(ex, endpoint, 1024);
    if (!acc) return fail(std::move(acc).error());
    return std::make_shared<tcp::acceptor>(std::move(*acc));
  }

  void listen_on(std::shared_ptr<tcp::acceptor> acc) {
    if (stopped) return;
    stop_listening();
    acceptor = acc;
    asio::co_spawn(ex, accept_loop(shared_from_this(), std::move(acc)), asio::detached);
  }

  void stop_listening() {
    if (!acceptor) return;
    boost::system::error_code ignored;
    acceptor->close(ignored);
    acceptor.reset();
  }

  static awaitable<void> accept_loop(std::shared_ptr<state> self, std::shared_ptr<tcp::acceptor> acc) {
    for (;;) {
      auto [ec, socket] = co_await acc->async_accept(asio::as_tuple(asio::use_awaitable));
      if (self->stopped || self->acceptor != acc || !acc->is_open()) co_return;
      if (ec) {
        log(log_level::warning, fmt::format("esl sim: accept failed: {}", ec.message()));
        asio::steady_timer pause{self->ex, milliseconds(50)};
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto c = std::make_shared<client>(self->ex, socket.release());
      self->clients.push_back(c);
      {
        std::lock_guard lock(self->mutex);
        ++self->counters.connections;
        ++self->counters.active;
      }
      asio::co_spawn(self->ex, session(self, c), asio::detached);
    }
  }

  static awaitable<void> session(std::shared_ptr<state> self, client_ptr c) {
    if (self->opts.deny_all) {
      self->send(c, "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n");
      self->finish(c);
      co_return;
    }
    self->send(c, "Content-Type: auth/request\n\n");
    std::array<char, 16 * 1024> chunk;
    for (;;) {
      while (!c->closed && !c->finishing) {
        std::size_t consumed = 0;
        auto cmd = frame(c->in, consumed);
        if (!cmd) {
          if (c->in.size() > 1024 * 1024) {
            self->close(c);
            co_return;
          }
          break;
        }
        c->in.erase(0, consumed);
        co_await self->handle(c, std::move(*cmd));
      }
      if (c->closed || c->finishing) co_return;
      boost::system::error_code ec;
      std::size_t n = c->stream.read_some(chunk, ec);
      if (!ec) {
        c->in.append(chunk.data(), n);
        continue;
      }
      if (ec == asio::error::would_block) {
        auto [wait_error] = co_await c->stream.async_wait_readable(asio::as_tuple(asio::use_awaitable));
        if (!wait_error) continue;
      }
      self->close(c);
      co_return;
    }
  }

  awaitable<void> pause(milliseconds d) {
    asio::steady_timer timer{ex, d};
    timers.insert(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    timers.erase(&timer);
  }

  void later(milliseconds d, std::function<void()> f) {
    asio::co_spawn(
        ex,
        [self = shared_from_this(), d, f = std::move(f)]() -> awaitable<void> {
          co_await self->pause(d);
          if (!self->stopped) f();
        },
        asio::detached);
  }

  // ---- events

  esl_headers event_headers(std::string_view name, std::string_view calling_function = "sim") {
    auto now = system_clock::now();
    std::time_t t = system_clock::to_time_t(now);
    std::tm local{}, gmt{};
    localtime_r(&t, &local);
    gmtime_r(&t, &gmt);
    char local_text[32], gmt_text[48];
    std::strftime(local_text, sizeof local_text, "%Y-%m-%d %H:%M:%S", &local);
    std::strftime(gmt_text, sizeof gmt_text, "%a, %d %b %Y %H:%M:%S GMT", &gmt);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    return {{"Event-Name", std::string(name)},
            {"Core-UUID", core_uuid},
            {"FreeSWITCH-Hostname", opts.hostname},
            {"FreeSWITCH-Switchname", opts.hostname},
            {"FreeSWITCH-IPv4", "127.0.0.1"},
            {"FreeSWITCH-IPv6", "::1"},
            {"Event-Date-Local", local_text},
            {"Event-Date-GMT", gmt_text},
            {"Event-Date-Timestamp", std::to_string(micros)},
            {"Event-Calling-File", "costrix_sim.c"},
            {"Event-Calling-Function", std::string(calling_function)},
            {"Event-Calling-Line-Number", "1"},
            {"Event-Sequence", std::to_string(sequence++)}};
  }

  // text/event-plain: URL-encoded values; a body after its own Content-Length.
  static std::string plain(const esl_headers& h, std::string_view body) {
    std::string text;
    for (const auto& [k, v] : h) text.append(k).append(": ").append(url_encode(v)).append("\n");
    if (!body.empty()) text += fmt::format("Content-Length: {}\n\n{}", body.size(), body);
    else text += "\n";
    return fmt::format("Content-Length: {}\nContent-Type: text/event-plain\n\n{}", text.size(), text);
  }

  static std::string json(const esl_headers& h, std::string_view body) {
    std::string text = "{";
    for (const auto& [k, v] : h) {
      if (text.size() > 1) text += ',';
      text += json_string(k) + ":" + json_string(v);
    }
    if (!body.empty()) text += fmt::format(",\"Content-Length\":\"{}\",\"_body\":{}", body.size(), json_string(body));
    text += "}";
    return fmt::format("Content-Length: {}\nContent-Type: text/event-json\n\n{}", text.size(), text);
  }

  static bool takes(const client& c, const esl_headers& h) {
    if (!c.authed || !c.events_on || c.closed || c.finishing) return false;
    std::string_view name = header(h, "Event-Name");
    bool send = c.all;
    if (!send && c.names.contains(std::string(name))) {
      std::string_view subclass = header(h, "Event-Subclass");
      send = name != "CUSTOM" || subclass.empty() || c.subclasses.contains(subclass);
    }
    if (!send || c.filters.empty()) return send;
    for (const auto& [fk, fv] : c.filters)
      if (header(h, fk) == fv) return true;
    return false;
  }

  void fire(const esl_headers& h, std::string_view body = {}) {
    std::optional<std::string> as_plain, as_json;
    auto targets = clients;
    for (const auto& c : targets) {
      if (!takes(*c, h)) continue;
      if (c->json) {
        if (!as_json) as_json = json(h, body);
        send(c, *as_json);
      } else {
        if (!as_plain) as_plain = plain(h, body);
        send(c, *as_plain);
      }
    }
  }

  void channel_event(std::string_view name, const channel& ch, std::string_view cause = {}) {
    auto h = event_headers(name, "switch_core_session_run");
    h.insert(h.end(), {{"Channel-State", ch.state},
                       {"Channel-Call-State", ch.callstate},
                       {"Channel-Name", ch.name},
                       {"Unique-ID", ch.uuid},
                       {"Call-Direction", "outbound"},
                       {"Answer-State", ch.callstate == "ACTIVE" ? "answered" : ch.callstate == "HANGUP" ? "hangup" : "ringing"}});
    if (!cause.empty()) h.emplace_back("Hangup-Cause", std::string(cause));
    h.insert(h.end(), {{"Caller-Caller-ID-Name", ch.cid_name},
                       {"Caller-Caller-ID-Number", ch.cid_num},
                       {"Caller-Destination-Number", ch.dest},
                       {"Caller-Unique-ID", ch.uuid},
                       {"Caller-Context", ch.context},
                       {"Caller-Channel-Name", ch.name}});
    if (!ch.bridged.empty()) h.emplace_back("Other-Leg-Unique-ID", ch.bridged);
    for (const auto& [k, v] : ch.variables) h.emplace_back("variable_" + k, v);
    fire(h);
  }

  void end_channel(const std::string& uuid, std::string_view cause) {
    auto it = channels.find(uuid);
    if (it == channels.end()) return;
    channel ch = std::move(it->second);
    channels.erase(it);
    ch.callstate = "HANGUP";
    ch.state = "CS_HANGUP";
    channel_event("CHANNEL_HANGUP", ch, cause);
    ch.state = "CS_REPORTING";
    channel_event("CHANNEL_HANGUP_COMPLETE", ch, cause);
    {
      std::lock_guard lock(mutex);
      counters.channels = channels.size();
    }
  }

  // ---- commands

  awaitable<void> handle(client_ptr c, command cmd) {
    auto w = words(cmd.line);
    std::string first = w.empty() ? std::string{} : w[0];
    count(first);
    if (iequals(first, "exit")) {
      send(c, reply("+OK bye"));
      send(c, disconnect_notice());
      finish(c);
      co_return;
    }
    if (!c->authed) {
      handle_auth(c, cmd, w);
      co_return;
    }
    if (iequals(first, "api") && w.size() > 1) {
      std::string_view rest = std::string_view(cmd.line).substr(cmd.line.find(' ') + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      auto space = rest.find(' ');
      std::string name(rest.substr(0, space));
      std::string arg(space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1));
      count({}, name);
      auto d = delay_of(name);
      if (d.count() > 0) co_await pause(d);
      if (stopped || c->closed) co_return;
      std::vector<std::function<void()>> after;
      std::string body = run_api(name, arg, after);
      send(c, api_response(body));
      for (auto& f : after) f();
      co_return;
    }
    if (iequals(first, "bgapi") && w.size() > 1) {
      std::string_view rest = std::string_view(cmd.line).substr(cmd.line.find(' ') + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      auto space = rest.find(' ');
      std::string name(rest.substr(0, space));
      std::string arg(space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1));
      count({}, name);
      std::string job(header(cmd.headers, "Job-UUID"));
      if (job.empty()) job = new_uuid();
      send(c, fmt::format("Content-Type: command/reply\nReply-Text: +OK Job-UUID: {}\nJob-UUID: {}\n\n", job, job));
      auto run = [self = shared_from_this(), name, arg, job] {
        std::vector<std::function<void()>> after;
        std::string body = self->run_api(name, arg, after);
        for (auto& f : after) f();
        auto h = self->event_headers("BACKGROUND_JOB", "api_exec");
        h.emplace_back("Job-UUID", job);
        h.emplace_back("Job-Command", name);
        if (!arg.empty()) h.emplace_back("Job-Command-Arg", arg);
        self->fire(h, body);
      };
      auto d = delay_of(name);
      if (d.count() > 0) later(d, std::move(run));
      else run();  // at once: a subscription sent after the bgapi does not see its job
      co_return;
    }
    if (iequals(first, "event") || iequals(first, "nixevent")) {
      subscribe(c, w);
      co_return;
    }
    if (iequals(first, "noevents")) {
      if (!c->events_on) {
      send(c, reply("-ERR not listening for events"));
      co_return;
    }
      c->events_on = c->all = false;
      c->names.clear();
      c->subclasses.clear();
      {
      send(c, reply("+OK no longer listening for events"));
      co_return;
    }
    }
    if (iequals(first, "filter")) {
      filter(c, cmd.line);
      co_return;
    }
    if (iequals(first, "sendevent") && w.size() > 1) {
      auto h = event_headers(w[1], "sendevent");
      for (const auto& [k, v] : cmd.headers)
        if (!iequals(k, "Content-Length") && !iequals(k, "Content-Type")) h.emplace_back(k, v);
      std::string uuid = new_uuid();
      h.emplace_back("Event-UUID", uuid);
      send(c, reply("+OK " + uuid));
      fire(h, cmd.body);
      co_return;
    }
    send(c, reply("-ERR command not found"));
  }

  void handle_auth(const client_ptr& c, const command& cmd, const std::vector<std::string>& w) {
    std::optional<bool> verdict;
    if (!w.empty() && w[0] == "auth") verdict = cmd.line.size() > 5 && cmd.line.substr(5) == opts.password;
    if (!w.empty() && w[0] == "userauth" && w.size() > 1) {
      // user@domain:password
      std::string_view arg = std::string_view(cmd.line).substr(9);
      auto colon = arg.find(':');
      bool good = false;
      if (colon != std::string_view::npos) {
        auto it = opts.users.find(arg.substr(0, colon));
        good = it != opts.users.end() && it->second == arg.substr(colon + 1);
      }
      verdict = good;
    }
    if (!verdict) return send(c, reply("-ERR command not found"));
    std::unique_lock lock(mutex);
    if (*verdict) {
      c->authed = true;
      ++counters.auths;
      lock.unlock();
      send(c, reply("+OK accepted"));
      return;
    }
    ++counters.failed_auths;
    lock.unlock();
    send(c, reply("-ERR invalid"));
    send(c, disconnect_notice());
    finish(c);
  }

  // `event [plain|json|xml] <names>` and `nixevent <names>`, as mod_event_socket reads them.
  void subscribe(const client_ptr& c, const std::vector<std::string>& w) {
    bool add = iequals(w[0], "event");
    std::size_t keys = 0;
    bool custom = false;
    for (std::size_t i = 1; i < w.size(); ++i) {
      std::string name = w[i];
      if (add && i == 1 && (iequals(name, "plain") || iequals(name, "json") || iequals(name, "xml"))) {
        c->json = iequals(name, "json");
        continue;
      }
      if (custom) {
        if (add) c->subclasses.insert(name);
        else c->subclasses.erase(name);
        continue;
      }
      std::string upper = name;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      ++keys;
      if (upper == "CUSTOM") custom = true;
      if (upper == "ALL") {
        c->all = add;
        if (!add) c->names.clear();
        continue;
      }
      if (add) c->names.insert(upper);
      else c->names.erase(upper);
    }
    if (keys == 0) return send(c, reply("-ERR no keywords supplied"));
    c->events_on = true;
    if (add) send(c, reply(fmt::format("+OK event listener enabled {}", c->json ? "json" : "plain")));
    else send(c, reply("+OK events nixed"));
  }

  void filter(const client_ptr& c, const std::string& line) {
    auto w = words(line);
    if (w.size() >= 2 && iequals(w[1], "delete")) {
      if (w.size() < 3) return send(c, reply("-ERR invalid syntax"));
      std::string value = w.size() > 3 ? line.substr(line.find(w[3], line.find(w[2]) + w[2].size())) : "";
      if (iequals(w[2], "all")) c->filters.clear();
      else
        std::erase_if(c->filters, [&](const auto& f) { return iequals(f.first, w[2]) && (value.empty() || f.second == value); });
      return send(c, reply(fmt::format("+OK filter deleted. [{}][{}]", w[2], value)));
    }
    if (w.size() < 3) return send(c, reply("-ERR invalid syntax"));
    std::string value = line.substr(line.find(w[2], line.find(w[1]) + w[1].size()));
    c->filters.emplace_back(w[1], value);
    send(c, reply(fmt::format("+OK filter added. [{}]=[{}]", w[1], value)));
  }

  // ---- the API command table

  channel* find(std::string_view uuid) {
    auto it = channels.find(uuid);
    return it == channels.end() ? nullptr : &it->second;
  }

  std::string status() {
    auto up = steady_clock::now() - booted;
    auto s = std::chrono::duration_cast<std::chrono::seconds>(up).count();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(up).count() % 1000;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(up).count() % 1000;
    return fmt::format(
        "UP 0 years, {} days, {} hours, {} minutes, {} seconds, {} milliseconds, {} microseconds\n"
        "FreeSWITCH (Version {}  64bit) is ready\n"
        "{} session(s) since startup\n"
        "{} session(s) - peak {}, last 5min {} \n"
        "0 session(s) per Sec out of max 2000, peak 0, last 5min 0 \n"
        "20000 session(s) max\n"
        "min idle cpu 0.00/99.63\n"
        "Current Stack Size/Max 240K/8192K\n",
        s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60, ms, us, opts.version, sessions, channels.size(),
        sessions, sessions);
  }

  std::string show(bool calls, bool as_json) {
    std::vector<const channel*> rows;
    for (const auto& [uuid, ch] : channels)
      if (!calls || (!ch.bridged.empty() && uuid < ch.bridged)) rows.push_back(&ch);
    auto column = [&](const channel& ch, std::string_view col) -> std::string {
      if (col == "uuid" || col == "call_uuid") return ch.uuid;
      if (col == "direction") return "outbound";
      if (col == "created_epoch") return std::to_string(ch.created);
      if (col == "name") return ch.name;
      if (col == "state") return ch.state;
      if (col == "cid_name") return ch.cid_name;
      if (col == "cid_num") return ch.cid_num;
      if (col == "dest" || col == "initial_dest") return ch.dest;
      if (col == "application") return ch.application;
      if (col == "application_data") return ch.application_data;
      if (col == "dialplan" || col == "initial_dialplan") return "XML";
      if (col == "context" || col == "initial_context") return ch.context;
      if (col == "hostname") return opts.hostname;
      if (col == "callstate") return ch.callstate;
      return {};
    };
    if (as_json) {
      if (rows.empty()) return "{\"row_count\": 0}\n";
      std::string out = fmt::format("{{\"row_count\":{},\"rows\":[", rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        out += i ? ",{" : "{";
        bool first = true;
        auto add = [&](std::string_view k, const std::string& v) {
          out += (first ? "" : ",") + json_string(k) + ":" + json_string(v);
          first = false;
        };
        for (auto col : channel_columns) add(col, column(*rows[i], col));
        if (calls)
          if (const channel* b = find(rows[i]->bridged))
            for (auto col : channel_columns) add(fmt::format("b_{}", col), column(*b, col));
        out += "}";
      }
      return out + "]}\n";
    }
    std::string out;
    for (auto col : channel_columns) out += (out.empty() ? "" : ",") + std::string(col);
    out = rows.empty() ? std::string{} : out + "\n";
    for (const auto* ch : rows) {
      std::string line;
      for (auto col : channel_columns) line += (line.empty() ? "" : ",") + column(*ch, col);
      out += line + "\n";
    }
    return fmt::format("{}\n{} total.\n", out, rows.size());
  }

  std::string originate(const std::string& arg, std::vector<std::function<void()>>& after) {
    std::string_view rest = arg;
    channel ch;
    if (rest.starts_with("{")) {
      auto close = rest.find('}');
      if (close == std::string_view::npos) return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
      std::string_view vars = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
      // name=value pairs, split on commas outside single quotes
      std::string item;
      bool quoted = false;
      auto take = [&] {
        auto eq = item.find('=');
        if (eq != std::string::npos) ch.set(item.substr(0, eq), item.substr(eq + 1));
        item.clear();
      };
      for (char x : vars) {
        if (x == '\'') quoted = !quoted;
        else if (x == ',' && !quoted) take();
        else item += x;
      }
      take();
    }
    auto space = rest.find(' ');
    if (space == std::string_view::npos || rest.empty())
      return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
    std::string endpoint(rest.substr(0, space));
    std::string destination(rest.substr(space + 1));
    if (!opts.originate_fail.empty() && endpoint.find(opts.originate_fail) != std::string::npos)
      return "-ERR NO_ROUTE_DESTINATION\n";
    if (opts.originate_outcome) {
      std::string failure = opts.originate_outcome(endpoint, destination);
      if (!failure.empty()) return "-ERR " + failure + "\n";
    }
    ch.uuid = std::string(ch.var("origination_uuid"));
    if (ch.uuid.empty()) ch.uuid = new_uuid();
    auto parts = words(endpoint);
    std::string_view ep = endpoint;
    if (ep.starts_with("loopback/")) {
      auto second = ep.find('/', 9);
      ch.dest = std::string(ep.substr(9, second == std::string_view::npos ? std::string_view::npos : second - 9));
      ch.name = "loopback/" + ch.dest + "-a";
    } else {
      ch.name = endpoint;
      ch.dest = std::string(ep.substr(ep.rfind('/') + 1));
    }
    if (auto v = ch.var("origination_caller_id_name"); !v.empty()) ch.cid_name = std::string(v);
    if (auto v = ch.var("origination_caller_id_number"); !v.empty()) ch.cid_num = std::string(v);
    if (destination.starts_with("&")) {
      auto paren = destination.find('(');
      ch.application = destination.substr(1, paren == std::string::npos ? std::string::npos : paren - 1);
      if (paren != std::string::npos) ch.application_data = destination.substr(paren + 1, destination.size() - paren - 2);
    }
    ch.created = std::chrono::duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch()).count();
    ch.set("uuid", ch.uuid);
    ch.set("channel_name", ch.name);
    ++sessions;
    std::string uuid = ch.uuid;
    channels.emplace(uuid, ch);
    {
      std::lock_guard lock(mutex);
      counters.channels = channels.size();
    }
    after.push_back([this, uuid] {
      channel* c = find(uuid);
      if (!c) return;
      channel copy = *c;
      copy.state = "CS_INIT";
      copy.callstate = "DOWN";
      channel_event("CHANNEL_CREATE", copy);
      channel_event("CHANNEL_ANSWER", *c);
      channel_event("CHANNEL_EXECUTE", *c);
    });
    return "+OK " + uuid + "\n";
  }

  std::string run_api(const std::string& name, const std::string& arg, std::vector<std::function<void()>>& after) {
    std::string whole = arg.empty() ? name : name + " " + arg;
    if (auto it = opts.api.find(whole); it != opts.api.end()) return it->second;
    auto a = words(arg);
    auto no_channel = std::string("-ERR No such channel!\n");
    if (name == "status") return status();
    if (name == "version") return fmt::format("FreeSWITCH Version {} (costrix simulator; 64bit)\n", opts.version);
    if (name == "uptime")
      return fmt::format("{}\n", std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - booted).count());
    if (name == "show" && !a.empty() && (a[0] == "channels" || a[0] == "calls"))
      return show(a[0] == "calls", a.size() >= 3 && a[1] == "as" && a[2] == "json");
    if (name == "global_getvar") return a.size() == 1 && a[0] == "hostname" ? opts.hostname : std::string{};
    if (name == "reloadxml") return "+OK [Success]\n";
    if (name == "originate") return originate(arg, after);
    if (name == "hupall") {
      std::string cause = a.empty() ? "NORMAL_CLEARING" : a[0];
      std::vector<std::string> doomed;
      for (const auto& [uuid, ch] : channels)
        if (a.size() < 3 || ch.var(a[1]) == a[2]) doomed.push_back(uuid);
      after.push_back([this, doomed, cause] {
        for (const auto& u : doomed) end_channel(u, cause);
      });
      return "+OK\n";
    }
    if (!name.starts_with("uuid_")) return fmt::format("-ERR {} Command not found!\n", name);
    // uuid_hold [off|toggle] <uuid>
    std::size_t at = 0;
    if (name == "uuid_hold" && !a.empty() && (a[0] == "off" || a[0] == "toggle")) at = 1;
    if (a.size() <= at) return fmt::format("-USAGE: {} <uuid> ...\n", name);
    channel* ch = find(a[at]);
    if (name == "uuid_exists") return ch ? "true" : "false";
    if (!ch) return no_channel;
    if (name == "uuid_getvar") {
      if (a.size() < 2) return "-USAGE: <uuid> <var>\n";
      auto v = ch->var(a[1]);
      return v.empty() ? "_undef_" : std::string(v);
    }
    if (name == "uuid_setvar") {
      if (a.size() < 2) return "-USAGE: <uuid> <var> [value]\n";
      auto pos = arg.find(a[1], a[0].size());
      std::string value = pos + a[1].size() < arg.size() ? arg.substr(pos + a[1].size() + 1) : std::string{};
      if (value.empty()) ch->unset(a[1]);
      else ch->set(a[1], value);
      return "+OK\n";
    }
    if (name == "uuid_kill") {
      std::string cause = a.size() > 1 ? a[1] : "NORMAL_CLEARING";
      std::string uuid = a[0];
      after.push_back([this, uuid, cause] { end_channel(uuid, cause); });
      return "+OK\n";
    }
    if (name == "uuid_transfer") {
      std::size_t d = a.size() > 1 && a[1].starts_with("-") ? 2 : 1;
      if (a.size() <= d) return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n";
      ch->dest = a[d];
      if (a.size() > d + 2) ch->context = a[d + 2];
      return "+OK\n";
    }
    if (name == "uuid_bridge") {
      if (a.size() < 2) return "-USAGE: <uuid> <other_uuid>\n";
      channel* other = find(a[1]);
      if (!other) return "-ERR Invalid uuid " + a[1] + "\n";
      ch->bridged = other->uuid;
      other->bridged = ch->uuid;
      return "+OK " + other->uuid + "\n";
    }
    if (name == "uuid_record") {
      if (a.size() < 3) return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n";
      return "+Success\n";
    }
    if (name == "uuid_broadcast") {
      if (a.size() < 2) return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n";
      return "+OK Message sent successfully\n";
    }
    if (name == "uuid_break" || name == "uuid_send_dtmf") return "+OK\n";
    if (name == "uuid_hold") return "+OK Success\n";
    return fmt::format("-ERR {} Command not found!\n", name);
  }

  // ---- floods and stopping

  static awaitable<void> flood_loop(std::shared_ptr<state> self, esl_flood f, std::uint64_t generation,
                                    std::function<void()> done) {
    asio::steady_timer tick{self->ex};
    auto begun = steady_clock::now();
    std::uint64_t sent = 0;
    while (!self->stopped && self->flood_generation == generation) {
      std::uint64_t due = sent + 256;
      if (f.rate > 0) {
        std::chrono::duration<double> elapsed = steady_clock::now() - begun;
        due = static_cast<std::uint64_t>(elapsed.count() * f.rate);
      }
      if (f.count > 0) due = std::min<std::uint64_t>(due, f.count);
      while (sent < due) {
        auto h = self->event_headers(f.name, "flood");
        h.emplace_back("Flood-Sequence", std::to_string(sent++));
        self->fire(h);
      }
      if (f.count > 0 && sent >= f.count) break;
      if (f.rate > 0) {
        tick.expires_after(milliseconds(1));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
      } else {
        co_await asio::post(self->ex, asio::use_awaitable);
      }
    }
    if (done) done();
  }

  void close_all() {
    auto all = clients;
    for (const auto& c : all) close(c);
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    stop_listening();
    close_all();
    ++flood_generation;
    for (auto* t : timers) t->cancel();
    channels.clear();
  }
};

// ---- esl_server

esl_server::esl_server(runtime& rt, esl_server_options options) : esl_server(rt.executor(0), std::move(options)) {}

esl_server::esl_server(executor_type ex, esl_server_options options)
    : state_(std::make_shared<state>(ex, std::move(options))) {
  state_->delays.insert(state_->opts.delays.begin(), state_->opts.delays.end());
}

esl_server::~esl_server() { stop(); }

result<void> esl_server::start() {
  auto ep = io::parse_endpoint(state_->opts.listen);
  if (!ep) return fail(std::move(ep).error());
  state_->endpoint = *ep;
  auto acc = state_->bind();
  if (!acc) return fail(std::move(acc).error());
  state_->endpoint.port((*acc)->local_endpoint().port());
  state_->port = state_->endpoint.port();
  state_->post([s = state_.get(), a = *acc] { s->listen_on(a); });
  return ok();
}

std::uint16_t esl_server::port() const noexcept { return state_->port.load(); }

void esl_server::delay(std::string api_command, std::chrono::milliseconds d) {
  std::lock_guard lock(state_->mutex);
  if (d.count() <= 0) state_->delays.erase(api_command);
  else state_->delays[std::move(api_command)] = d;
}

void esl_server::emit(esl_headers headers, std::string body) {
  state_->post([s = state_.get(), h = std::move(headers), body = std::move(body)] {
    std::string_view name = header(h, "Event-Name");
    auto full = s->event_headers(name.empty() ? "CUSTOM" : name);
    for (const auto& kv : h)
      if (!iequals(kv.first, "Event-Name")) full.push_back(kv);
    s->fire(full, body);
  });
}

void esl_server::start_flood(esl_flood flood, std::function<void()> done) {
  state_->post([s = state_.get(), flood, done = std::move(done)] {
    if (s->stopped) {
      if (done) done();
      return;
    }
    asio::co_spawn(s->ex, state::flood_loop(s->shared_from_this(), flood, ++s->flood_generation, done),
                   asio::detached);
  });
}

void esl_server::stop_flood() {
  state_->post([s = state_.get()] { ++s->flood_generation; });
}

void esl_server::hangup(std::string uuid, std::string cause) {
  state_->post([s = state_.get(), uuid = std::move(uuid), cause = std::move(cause)] { s->end_channel(uuid, cause); });
}

void esl_server::disconnect_all(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->close_all();
    if (done) done();
  });
}

void esl_server::stop_listening(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->stop_listening();
    if (done) done();
  });
}

result<void> esl_server::start_listening() {
  if (state_->port.load() == 0) return fail(errc::invalid_argument, "start() first");
  auto acc = state_->bind();
  if (!acc) return fail(std::move(acc).error());
  state_->post([s = state_.get(), a = *acc] { s->listen_on(a); });
  return ok();
}

void esl_server::stop(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->stop();
    if (done) done();
  });
}

esl_server_stats esl_server::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->counters;
}

std::uint64_t esl_server::commands_received(std::string_view first_word) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->counters.commands.find(first_word);
  return it == state_->counters.commands.end() ? 0 : it->second;
}

}  // namespace costrix::sim
