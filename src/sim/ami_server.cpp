#include <costrix/sim/ami_server.hpp>

#include "server_clients.hpp"

#include <costrix/io/listener.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/log.hpp>
#include <costrix/proto/ami/login_key.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <set>

namespace costrix::sim {
namespace asio = boost::asio;
using asio::ip::tcp;
using proto::ami::iequals;
using proto::ami::md5_hex;
using proto::ami::owned_message;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

// Case-insensitive ordering, for names Asterisk compares with strcasecmp.
struct iless {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
    });
  }
};

// ast_uri_encode as Asterisk applies it to AsyncAGI values: every byte but
// letters, digits and -_.!~*'() becomes %XX.
std::string uri_encode(std::string_view s) {
  static constexpr std::string_view keep = "-_.!~*'()";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || keep.find(ch) != std::string_view::npos) out += ch;
    else out += fmt::format("%{:02X}", u);
  }
  return out;
}

// ---- Event classes (manager.c's perms[]): an event is sent to a client whose
// mask holds its class.

struct event_class {
  std::string_view name;
  std::uint32_t bit;
};
constexpr std::array<event_class, 19> event_classes{{
    {"system", 1u << 0}, {"call", 1u << 1},       {"log", 1u << 2},        {"verbose", 1u << 3},
    {"command", 1u << 4}, {"agent", 1u << 5},     {"user", 1u << 6},       {"config", 1u << 7},
    {"dtmf", 1u << 8},   {"reporting", 1u << 9},  {"cdr", 1u << 10},       {"dialplan", 1u << 11},
    {"originate", 1u << 12}, {"agi", 1u << 13},   {"cc", 1u << 14},        {"aoc", 1u << 15},
    {"test", 1u << 16},  {"security", 1u << 17},  {"message", 1u << 18},
}};
constexpr std::uint32_t all_events = (1u << 19) - 1;

std::uint32_t class_of(std::string_view word) {
  for (const auto& c : event_classes)
    if (iequals(c.name, word)) return c.bit;
  if (iequals(word, "all")) return all_events;
  return 0;
}

// The class of an event: the first word of its Privilege ("call,all" -> call); 0 when none.
std::uint32_t class_of_privilege(std::string_view privilege) {
  return class_of(privilege.substr(0, privilege.find(',')));
}

bool is_true(std::string_view v) {
  for (std::string_view t : {"yes", "true", "y", "t", "1", "on"})
    if (iequals(v, t)) return true;
  return false;
}
bool is_false(std::string_view v) {
  for (std::string_view f : {"no", "false", "n", "f", "0", "off"})
    if (iequals(v, f)) return true;
  return false;
}

// manager.c's strings_to_mask: digits as a number, off/on, or a list of class
// names (unknown names count for nothing). An empty text is no mask at all.
std::optional<std::uint32_t> events_mask(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return static_cast<std::uint32_t>(std::strtoul(std::string(text).c_str(), nullptr, 10));
  if (is_false(text)) return 0u;
  if (is_true(text)) return all_events;
  std::uint32_t mask = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto word = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    mask |= class_of(word);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return mask;
}

// ---- Writing messages: `Key: Value\r\n` lines and the closing empty line.

class writer {
 public:
  writer& h(std::string_view key, std::string_view value) {
    text_.append(key).append(": ").append(value).append("\r\n");
    return *this;
  }
  /// ActionID, when the action had one (Asterisk leaves the line out otherwise).
  writer& id(std::string_view action_id) {
    if (!action_id.empty()) h("ActionID", action_id);
    return *this;
  }
  std::string done() {
    text_ += "\r\n";
    return std::move(text_);
  }

 private:
  std::string text_;
};

std::string_view value(const proto::ami::message& m, std::string_view key) { return m.get(key).value_or(""); }

// Asterisk reads the first non-empty Action header, wherever it is.
std::string_view action_name(const proto::ami::message& m) {
  for (auto v : m.all("Action"))
    if (!v.empty()) return v;
  return {};
}

std::string cause_text(int cause) {
  switch (cause) {
    case 16: return "Normal Clearing";
    case 17: return "User busy";
    case 18: return "No user responding";
    case 19: return "User alerting, no answer";
    case 21: return "Call Rejected";
    case 34: return "Circuit/channel congestion";
    default: return "Unknown";
  }
}

std::string_view state_text(int state) {
  switch (state) {
    case 0: return "Down";
    case 4: return "Ring";
    case 5: return "Ringing";
    case 6: return "Up";
    case 7: return "Busy";
    default: return "Unknown";
  }
}

// ListCommands as Asterisk 22 answered it (the recorded transcript).
constexpr std::string_view list_commands[] = {
    "AbsoluteTimeout: Set absolute timeout.  (Priv: system,call,all)",
    "AGI: Add an AGI command to execute by Async AGI.  (Priv: agi,all)",
    "AOCMessage: Generate an Advice of Charge message on a channel.  (Priv: aoc,all)",
    "Atxfer: Attended transfer.  (Priv: call,all)",
    "BlindTransfer: Blind transfer channel(s) to the given destination  (Priv: call,all)",
    "Bridge: Bridge two channels already in the PBX.  (Priv: call,all)",
    "BridgeDestroy: Destroy a bridge.  (Priv: <none>)",
    "BridgeInfo: Get information about a bridge.  (Priv: <none>)",
    "BridgeKick: Kick a channel from a bridge.  (Priv: <none>)",
    "BridgeList: Get a list of bridges in the system.  (Priv: <none>)",
    "BridgeTechnologyList: List available bridging technologies and their statuses.  (Priv: <none>)",
    "BridgeTechnologySuspend: Suspend a bridging technology.  (Priv: <none>)",
    "BridgeTechnologyUnsuspend: Unsuspend a bridging technology.  (Priv: <none>)",
    "CancelAtxfer: Cancel an attended transfer.  (Priv: call,all)",
    "Challenge: Generate Challenge for MD5 Auth.  (Priv: <none>)",
    "Command: Execute Asterisk CLI Command.  (Priv: command,all)",
    "CoreSettings: Show PBX core settings (version etc).  (Priv: system,reporting,all)",
    "CoreShowChannelMap: List all channels connected to the specified channel.  (Priv: system,reporting,all)",
    "CoreShowChannels: List currently active channels.  (Priv: system,reporting,all)",
    "CoreStatus: Show PBX core status variables.  (Priv: system,reporting,all)",
    "CreateConfig: Creates an empty file in the configuration directory.  (Priv: config,all)",
    "DBDel: Delete DB entry.  (Priv: system,all)",
    "DBDelTree: Delete DB Tree.  (Priv: system,all)",
    "DBGet: Get DB Entry.  (Priv: system,reporting,all)",
    "DBGetTree: Get DB entries, optionally at a particular family/key  (Priv: system,reporting,all)",
    "DBPut: Put DB entry.  (Priv: system,all)",
    "DialplanExtensionAdd: Add an extension to the dialplan  (Priv: system,all)",
    "DialplanExtensionRemove: Remove an extension from the dialplan  (Priv: system,all)",
    "Events: Control Event Flow.  (Priv: <none>)",
    "ExtensionState: Check Extension Status.  (Priv: call,reporting,all)",
    "ExtensionStateList: List the current known extension states.  (Priv: call,reporting,all)",
    "Filter: Dynamically add filters for the current manager session.  (Priv: system,all)",
    "GetConfig: Retrieve configuration.  (Priv: system,config,all)",
    "GetConfigJSON: Retrieve configuration (JSON format).  (Priv: system,config,all)",
    "Getvar: Gets a channel variable or function value.  (Priv: call,reporting,all)",
    "Hangup: Hangup channel.  (Priv: system,call,all)",
    "ListCategories: List categories in configuration file.  (Priv: config,all)",
    "ListCommands: List available manager commands.  (Priv: <none>)",
    "LocalOptimizeAway: Optimize away a local channel when possible.  (Priv: system,call,all)",
    "LoggerRotate: Reload and rotate the Asterisk logger.  (Priv: system,reporting,all)",
    "Login: Login Manager.  (Priv: <none>)",
    "Logoff: Logoff Manager.  (Priv: <none>)",
    "MailboxCount: Check Mailbox Message Count.  (Priv: call,reporting,all)",
    "MailboxStatus: Check mailbox.  (Priv: call,reporting,all)",
    "MessageSend: Send an out of call message to an endpoint.  (Priv: message,all)",
    "MixMonitor: Record a call and mix the audio during the recording.  Use of StopMixMonitor is required to guarantee the audio file is available for processing during dialplan execution.  (Priv: system,all)",
    "MixMonitorMute: Mute / unMute a Mixmonitor recording.  (Priv: system,call,all)",
    "ModuleCheck: Check if module is loaded.  (Priv: system,all)",
    "ModuleLoad: Module management.  (Priv: system,all)",
    "Originate: Originate a call.  (Priv: originate,all)",
    "Ping: Keepalive command.  (Priv: <none>)",
    "PlayDTMF: Play DTMF signal on a specific channel.  (Priv: call,all)",
    "PresenceState: Check Presence State  (Priv: call,reporting,all)",
    "Redirect: Redirect (transfer) a call.  (Priv: call,all)",
    "Reload: Send a reload event.  (Priv: system,config,all)",
    "SendFlash: Send a hook flash on a specific channel.  (Priv: call,all)",
    "SendText: Sends a text message to channel. A content type\tcan be optionally specified. If not set it is set to an empty string allowing a custom handler to default it as it sees fit.  (Priv: call,all)",
    "Setvar: Sets a channel variable or function value.  (Priv: call,all)",
    "ShowDialPlan: Show dialplan contexts and extensions  (Priv: config,reporting,all)",
    "Status: List channel status.  (Priv: system,call,reporting,all)",
    "StopMixMonitor: Stop recording a call through MixMonitor, and free the recording's file handle.  (Priv: system,call,all)",
    "UpdateConfig: Update basic configuration.  (Priv: config,all)",
    "UserEvent: Send an arbitrary event.  (Priv: user,all)",
    "WaitEvent: Wait for an event to occur.  (Priv: <none>)",
};

}  // namespace

// ---- The server's state: everything below is touched on the executor only,
// except what the mutex guards (rules, counters) and `port`.

namespace {

struct client : detail::server_client {  // finishing: Logoff or a failed login
  client(ami_server::executor_type ex, int fd, const proto::ami::limits& l)
      : server_client(io::stream::adopt(ex, fd)), parser(l, proto::ami::message_parser::first::message) {}
  proto::ami::message_parser parser;
  bool authenticated = false;
  std::string username;
  std::string challenge;
  std::uint32_t events = all_events;
};

// The AsyncAGI side of a channel: its conversation and the commands queued for it.
struct agi_state {
  explicit agi_state(agi_call c) : conversation(std::move(c)) {}
  agi_channel conversation;
  struct command {
    std::string text;
    std::string id;        // the client's CommandID (AsyncAGIExec)
    std::string internal;  // Asterisk's own number (AGIExecStart/End)
  };
  std::deque<command> queue;
  std::optional<command> running;  // started, its AGIExecEnd not sent yet
  std::uint64_t step = 0;          // tells a delayed reply whether it is still due
};

struct channel {
  std::string name;
  std::string uniqueid;
  std::string linkedid;
  int state = 6;
  std::string cid_num = "<unknown>";
  std::string cid_name = "<unknown>";
  std::string context = "default";
  std::string exten = "s";
  std::string priority = "1";
  std::string application;
  std::string data;
  steady_clock::time_point created = steady_clock::now();
  std::map<std::string, std::string, std::less<>> variables;
  std::unique_ptr<agi_state> agi;
  bool gone = false;

  std::string_view tech() const {
    auto slash = std::string_view(name).find('/');
    return std::string_view(name).substr(0, slash == std::string_view::npos ? 0 : slash);
  }
};

// The channel fields every call event starts with (after Event and Privilege).
void snapshot(writer& w, const channel& c) {
  w.h("Channel", c.name)
      .h("ChannelState", std::to_string(c.state))
      .h("ChannelStateDesc", state_text(c.state))
      .h("CallerIDNum", c.cid_num)
      .h("CallerIDName", c.cid_name)
      .h("ConnectedLineNum", "<unknown>")
      .h("ConnectedLineName", "<unknown>")
      .h("Language", "en")
      .h("AccountCode", "")
      .h("Context", c.context)
      .h("Exten", c.exten)
      .h("Priority", c.priority)
      .h("Uniqueid", c.uniqueid)
      .h("Linkedid", c.linkedid);
}

std::string duration(steady_clock::time_point since) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - since).count();
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60);
}

}  // namespace

struct ami_server::state : std::enable_shared_from_this<state>, detail::server_clients<ami_server::state, client> {
  static constexpr std::string_view log_name = "ami sim";
  using client_ptr = std::shared_ptr<client>;
  using channel_ptr = std::shared_ptr<channel>;
  using rule_map = std::map<std::string, action_rule, iless>;

  state(executor_type e, ami_server_options o)
      : ex(e), opts(std::move(o)), rng(std::random_device{}()), rules(std::make_shared<rule_map>()) {
    epoch = std::chrono::duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch()).count();
  }

  executor_type ex;
  ami_server_options opts;
  tcp::endpoint endpoint;  // with the port bound by start()
  std::atomic<std::uint16_t> port{0};

  // Executor only.
  std::shared_ptr<tcp::acceptor> acceptor;
  bool stopped = false;
  std::vector<client_ptr> clients;
  std::map<std::string, channel_ptr, std::less<>> channels;
  std::map<std::string, std::string, std::less<>> globals;
  std::map<std::string, std::string, std::less<>> astdb;  // "family/key" -> value
  std::uint64_t channel_seq = 0;
  std::uint64_t uniqueid_seq = 0;
  std::uint64_t processed_calls = 0;
  std::uint64_t flood_generation = 0;
  std::set<asio::steady_timer*> timers;  // cancelled by stop()
  std::int64_t epoch;
  steady_clock::time_point booted = steady_clock::now();
  system_clock::time_point started = system_clock::now();
  std::mt19937_64 rng;

  // Any thread.
  mutable std::mutex mutex;
  std::shared_ptr<const rule_map> rules;
  ami_server_stats counters;
  std::map<std::string, std::uint64_t, iless> actions;

  // ---- running things on the executor

  void post(std::function<void()> f) {
    asio::post(ex, [self = shared_from_this(), f = std::move(f)] { f(); });
  }

  // Runs `f` after `d` on the executor, unless the server stopped meanwhile.
  void later(milliseconds d, std::function<void()> f) {
    asio::co_spawn(
        ex,
        [self = shared_from_this(), d, f = std::move(f)]() -> awaitable<void> {
          asio::steady_timer timer{self->ex, d};
          self->timers.insert(&timer);
          co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          self->timers.erase(&timer);
          if (!self->stopped) f();
        },
        asio::detached);
  }

  std::string new_uniqueid() { return fmt::format("{}.{}", epoch, uniqueid_seq++); }

  // ---- listening

  result<std::shared_ptr<tcp::acceptor>> bind() {
    auto acc = io::listen_reuseport(ex, endpoint, 1024);
    if (!acc) return fail(std::move(acc).error());
    return std::make_shared<tcp::acceptor>(std::move(*acc));
  }

  void listen_on(std::shared_ptr<tcp::acceptor> acc) {
    if (stopped) return;
    if (acceptor) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
    acceptor = acc;
    asio::co_spawn(ex, accept_loop(shared_from_this(), std::move(acc)), asio::detached);
  }

  void stop_listening() {
    if (!acceptor) return;
    boost::system::error_code ignored;
    acceptor->close(ignored);
    acceptor.reset();
  }

  // ---- TLS (Asterisk's tlsenable): a relay between the TLS connection and a
  // socket pair whose other end is served like a plain TCP connection.

  std::shared_ptr<asio::ssl::context> tls;

  result<void> load_tls() {
    if (opts.tls_certificate_file.empty()) return ok();
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(opts.tls_certificate_file, ec);
    if (!ec) ctx->use_private_key_file(opts.tls_private_key_file, asio::ssl::context::pem, ec);
    if (ec) return fail(errc::invalid_argument, "TLS certificate or key: " + ec.message());
    tls = std::move(ctx);
    return ok();
  }

  struct tls_relay {
    tls_relay(tcp::socket s, asio::ssl::context& ctx, int fd) : secure(std::move(s), ctx), plain(secure.get_executor(), fd) {}
    asio::ssl::stream<tcp::socket> secure;
    asio::posix::stream_descriptor plain;
    void close() {
      boost::system::error_code ignored;
      secure.next_layer().close(ignored);
      plain.close(ignored);
    }
  };

  // Returns the descriptor to serve, or -1.
  static int terminate_tls(const std::shared_ptr<state>& self, tcp::socket socket) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return -1;
    auto r = std::make_shared<tls_relay>(std::move(socket), *self->tls, fds[1]);
    asio::co_spawn(self->ex, relay(r), asio::detached);
    return fds[0];
  }

  static awaitable<void> relay(std::shared_ptr<tls_relay> r) {
    auto [hec] = co_await r->secure.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (hec) {
      log(log_level::info, fmt::format("ami sim: TLS handshake failed: {}", hec.message()));
      co_return r->close();
    }
    asio::co_spawn(r->plain.get_executor(), [](std::shared_ptr<tls_relay> r) -> awaitable<void> {
      std::array<char, 16384> buf;
      for (;;) {
        auto [ec, n] = co_await r->plain.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        auto [wec, m] = co_await asio::async_write(r->secure, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
        if (wec) break;
      }
      r->close();
    }(r), asio::detached);
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await r->secure.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto [wec, m] = co_await asio::async_write(r->plain, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    r->close();
  }

  static awaitable<void> accept_loop(std::shared_ptr<state> self, std::shared_ptr<tcp::acceptor> acc) {
    for (;;) {
      auto [ec, socket] = co_await acc->async_accept(asio::as_tuple(asio::use_awaitable));
      if (self->stopped || self->acceptor != acc || !acc->is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: wait a little, then accept again.
        log(log_level::warning, fmt::format("ami sim: accept failed: {}", ec.message()));
        asio::steady_timer pause{self->ex, milliseconds(50)};
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      int fd = self->tls ? terminate_tls(self, std::move(socket)) : socket.release();
      if (fd < 0) continue;
      auto c = std::make_shared<client>(self->ex, fd, self->opts.limits);
      self->clients.push_back(c);
      {
        std::lock_guard lock(self->mutex);
        ++self->counters.connections;
        ++self->counters.active;
      }
      asio::co_spawn(self->ex, session(self, c), asio::detached);
    }
  }

  // ---- one connection

  static awaitable<void> session(std::shared_ptr<state> self, client_ptr c) {
    self->send(c, "Asterisk Call Manager/" + self->opts.ami_version + "\r\n");
    std::array<char, 16 * 1024> chunk;
    for (;;) {
      while (!c->closed && !c->finishing) {
        auto framed = c->parser.parse(c->in);
        if (!framed) {
          log(log_level::info, fmt::format("ami sim: {}: closing: {}", c->stream.peer(), framed.error().what()));
          self->close(c);
          co_return;
        }
        if (!*framed) break;
        owned_message m{(*framed)->msg};
        c->in.erase(0, (*framed)->consumed);
        self->handle(c, std::move(m));
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
      self->close(c);  // the client left, or we closed it
      co_return;
    }
  }

  // ---- events

  bool takes(const client& c, std::uint32_t cls) const {
    if (!c.authenticated || c.finishing || c.closed || c.events == 0) return false;
    return (c.events & cls) == cls;
  }

  void emit(std::string_view text, std::uint32_t cls) {
    // A copy of the list: a client whose output overflows is closed (and erased) in send().
    auto targets = clients;
    for (const auto& c : targets)
      if (takes(*c, cls)) send(c, text);
  }

  void emit(const ami_fields& event) {
    writer w;
    std::uint32_t cls = 0;
    for (const auto& [k, v] : event) {
      w.h(k, v);
      if (cls == 0 && iequals(k, "Privilege")) cls = class_of_privilege(v);
    }
    emit(w.done(), cls);
  }

  void flood_event(std::uint64_t i) {
    channel ch;
    ch.name = fmt::format("PJSIP/flood-{:08x}", i / 3);
    ch.uniqueid = ch.linkedid = fmt::format("{}.{}", epoch, i / 3);
    ch.cid_num = fmt::format("{}", 5550000 + i / 3 % 10000);
    writer w;
    switch (i % 3) {
      case 0:
        ch.state = 0;
        w.h("Event", "Newchannel").h("Privilege", "call,all");
        snapshot(w, ch);
        emit(w.done(), class_of("call"));
        break;
      case 1:
        w.h("Event", "VarSet").h("Privilege", "dialplan,all");
        snapshot(w, ch);
        w.h("Variable", "FLOOD").h("Value", std::to_string(i / 3));
        emit(w.done(), class_of("dialplan"));
        break;
      default:
        w.h("Event", "Hangup").h("Privilege", "call,all");
        snapshot(w, ch);
        w.h("Cause", "16").h("Cause-txt", cause_text(16));
        emit(w.done(), class_of("call"));
        break;
    }
  }

  static awaitable<void> flood_loop(std::shared_ptr<state> self, event_flood f, std::uint64_t generation,
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
      while (sent < due) self->flood_event(sent++);
      if (f.count > 0 && sent >= f.count) break;
      if (f.rate > 0) {
        tick.expires_after(milliseconds(1));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
      } else {
        co_await asio::post(self->ex, asio::use_awaitable);  // let the writers run
      }
    }
    if (done) done();
  }

  // ---- actions

  void count(std::string_view name) {
    std::lock_guard lock(mutex);
    auto it = actions.find(name);
    if (it == actions.end()) it = actions.emplace(std::string(name), 0).first;
    ++it->second;
  }

  std::optional<action_rule> rule_for(std::string_view name) {
    std::shared_ptr<const rule_map> table;
    {
      std::lock_guard lock(mutex);
      table = rules;
    }
    auto it = table->find(name);
    if (it == table->end()) it = table->find("*");
    if (it == table->end()) return std::nullopt;
    return it->second;
  }

  void error(const client_ptr& c, const owned_message& m, std::string_view message) {
    send(c, writer().h("Response", "Error").id(m.action_id()).h("Message", message).done());
  }
  void ack(const client_ptr& c, const owned_message& m, std::string_view message) {
    send(c, writer().h("Response", "Success").id(m.action_id()).h("Message", message).done());
  }

  void handle(const client_ptr& c, owned_message m) {
    std::string_view name = action_name(m);
    if (name.empty()) return error(c, m, "Missing action in request");
    count(name);
    if (!c->authenticated && !iequals(name, "Login") && !iequals(name, "Logoff") && !iequals(name, "Challenge"))
      return error(c, m, "Permission denied");
    auto rule = rule_for(name);
    if (!rule) return builtin(c, m, name);
    if (rule->never_answer && !rule->disconnect) return;
    if (rule->delay.count() > 0) {
      // The message is moved into the callback: `name` must not be used after this.
      later(rule->delay, [self = shared_from_this(), c, m = std::move(m), r = std::move(*rule)] {
        self->apply(c, m, r);
      });
      return;
    }
    apply(c, m, *rule);
  }

  void apply(const client_ptr& c, const owned_message& m, const action_rule& r) {
    if (c->closed || c->finishing) return;
    if (r.disconnect) return close(c);
    bool custom = r.response || !r.events.empty() || !r.list_complete.empty();
    if (!custom) return builtin(c, m, action_name(m));
    std::string id(m.action_id());
    static const ami_fields success{{"Response", "Success"}};
    const ami_fields& response = r.response ? *r.response : success;
    writer w;
    for (std::size_t i = 0; i < response.size(); ++i) {
      w.h(response[i].first, response[i].second);
      if (i == 0) {
        w.id(id);
        if (!r.list_complete.empty()) w.h("EventList", "start");
      }
    }
    std::string out = w.done();
    for (const auto& event : r.events) {
      writer e;
      for (std::size_t i = 0; i < event.size(); ++i) {
        e.h(event[i].first, event[i].second);
        if (i == 0) e.id(id);
      }
      out += e.done();
    }
    if (!r.list_complete.empty())
      out += writer()
                 .h("Event", r.list_complete)
                 .id(id)
                 .h("EventList", "Complete")
                 .h("ListItems", std::to_string(r.events.size()))
                 .done();
    send(c, out);
  }

  void builtin(const client_ptr& c, const owned_message& m, std::string_view name) {
    using handler = void (state::*)(const client_ptr&, const owned_message&);
    static constexpr std::pair<std::string_view, handler> table[] = {
        {"Login", &state::login},
        {"Challenge", &state::challenge},
        {"Logoff", &state::logoff},
        {"Ping", &state::ping},
        {"Events", &state::events},
        {"Command", &state::command},
        {"Getvar", &state::getvar},
        {"Setvar", &state::setvar},
        {"DBPut", &state::dbput},
        {"DBGet", &state::dbget},
        {"DBDel", &state::dbdel},
        {"DBDelTree", &state::dbdeltree},
        {"CoreStatus", &state::corestatus},
        {"CoreSettings", &state::coresettings},
        {"ListCommands", &state::listcommands},
        {"Hangup", &state::hangup_action},
        {"Originate", &state::originate},
        {"CoreShowChannels", &state::coreshowchannels},
        {"Status", &state::status},
        {"UserEvent", &state::userevent},
        {"AGI", &state::agi},
    };
    for (const auto& [n, h] : table)
      if (iequals(n, name)) return (this->*h)(c, m);
    error(c, m,
          fmt::format("Invalid/unknown command: {}. Use Action: ListCommands to show available commands.", name));
  }

  // ---- built-in actions, answered as Asterisk 22 answers them

  void login(const client_ptr& c, const owned_message& m) {
    if (c->authenticated) return ack(c, m, "Already authenticated");
    std::string_view user = value(m, "Username");
    auto account = std::find_if(opts.accounts.begin(), opts.accounts.end(),
                                [&](const auto& a) { return iequals(a.first, user); });
    bool accepted = false;
    if (account != opts.accounts.end() && !user.empty()) {
      if (iequals(value(m, "AuthType"), "MD5")) {
        std::string_view key = value(m, "Key");
        accepted = !key.empty() && !c->challenge.empty() && md5_hex(c->challenge + account->second) == key;
      } else {
        accepted = value(m, "Secret") == account->second;
      }
    }
    if (!accepted) {
      {
        std::lock_guard lock(mutex);
        ++counters.failed_logins;
      }
      // Asterisk answers a failed login late, then hangs up.
      c->finishing = true;
      std::string refusal = writer().h("Response", "Error").id(m.action_id()).h("Message", "Authentication failed").done();
      auto refuse = [self = shared_from_this(), c, refusal] {
        self->send(c, refusal);
        self->finish(c);
      };
      if (opts.failed_login_delay.count() > 0) later(opts.failed_login_delay, std::move(refuse));
      else refuse();
      return;
    }
    c->authenticated = true;
    c->username = account->first;
    if (auto mask = events_mask(value(m, "Events"))) c->events = *mask;
    {
      std::lock_guard lock(mutex);
      ++counters.logins;
    }
    std::string out = writer().h("Response", "Success").id(m.action_id()).h("Message", "Authentication accepted").done();
    if ((c->events & class_of("system")) != 0) {
      auto up = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - booted).count());
      out += writer()
                 .h("Event", "FullyBooted")
                 .h("Privilege", "system,all")
                 .h("Uptime", up)
                 .h("LastReload", up)
                 .h("Status", "Fully Booted")
                 .done();
    }
    send(c, out);
  }

  void challenge(const client_ptr& c, const owned_message& m) {
    if (!iequals(value(m, "AuthType"), "MD5")) return error(c, m, "Must specify AuthType");
    if (c->challenge.empty()) c->challenge = std::to_string(rng() % 2147483647u);
    send(c, writer().h("Response", "Success").id(m.action_id()).h("Challenge", c->challenge).done());
  }

  void logoff(const client_ptr& c, const owned_message& m) {
    send(c, writer().h("Response", "Goodbye").id(m.action_id()).h("Message", "Thanks for all the fish.").done());
    finish(c);
  }

  void ping(const client_ptr& c, const owned_message& m) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(system_clock::now().time_since_epoch()).count();
    send(c, writer()
                .h("Response", "Success")
                .id(m.action_id())
                .h("Ping", "Pong")
                .h("Timestamp", fmt::format("{}.{:06}", us / 1000000, us % 1000000))
                .done());
  }

  void events(const client_ptr& c, const owned_message& m) {
    auto mask = events_mask(value(m, "EventMask"));
    if (!mask) return error(c, m, "Invalid event mask");
    c->events = *mask;
    send(c, writer().h("Response", "Success").id(m.action_id()).h("Events", *mask ? "On" : "Off").done());
  }

  void command(const client_ptr& c, const owned_message& m) {
    std::string_view cmd = value(m, "Command");
    std::optional<std::string> output;
    if (auto it = opts.cli.find(cmd); it != opts.cli.end()) output = it->second;
    else if (cmd == "core show version")
      output = fmt::format("Asterisk {} built by root @ vm on a x86_64 running Linux on 2026-11-23 06:39:45 UTC",
                           opts.asterisk_version);
    writer w;
    w.h("Response", output ? "Success" : "Error").id(m.action_id()).h("Message", "Command output follows");
    if (!output) {
      w.h("Output", fmt::format("No such command '{}' (type 'core show help {}' for other possible commands)", cmd, cmd));
    } else {
      std::string_view rest = *output;
      if (rest.ends_with('\n')) rest.remove_suffix(1);
      for (;;) {
        auto nl = rest.find('\n');
        w.h("Output", rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    }
    send(c, w.done());
  }

  channel_ptr find_channel(std::string_view name) {
    auto it = channels.find(name);
    return it == channels.end() ? nullptr : it->second;
  }

  static std::optional<std::string> channel_variable(const channel& ch, std::string_view name) {
    if (name == "CHANNEL") return ch.name;
    if (name == "UNIQUEID") return ch.uniqueid;
    if (name == "CONTEXT") return ch.context;
    if (name == "EXTEN") return ch.exten;
    if (name == "CALLERID(num)") return ch.cid_num;
    if (name == "CALLERID(name)") return ch.cid_name;
    if (auto it = ch.variables.find(name); it != ch.variables.end()) return it->second;
    if (ch.agi) {
      const auto& vars = ch.agi->conversation.variables();
      if (auto it = vars.find(name); it != vars.end()) return it->second;
    }
    return std::nullopt;
  }

  void getvar(const client_ptr& c, const owned_message& m) {
    std::string_view var = value(m, "Variable");
    if (var.empty()) return error(c, m, "No variable specified");
    std::string result;
    if (std::string_view name = value(m, "Channel"); !name.empty()) {
      auto ch = find_channel(name);
      if (!ch) return error(c, m, "No such channel");
      result = channel_variable(*ch, var).value_or("");
    } else if (auto it = globals.find(var); it != globals.end()) {
      result = it->second;
    }
    send(c, writer().h("Response", "Success").id(m.action_id()).h("Variable", var).h("Value", result).done());
  }

  void setvar(const client_ptr& c, const owned_message& m) {
    std::string_view var = value(m, "Variable");
    std::string_view val = value(m, "Value");
    if (var.empty()) return error(c, m, "No variable specified");
    channel_ptr ch;
    if (std::string_view name = value(m, "Channel"); !name.empty()) {
      ch = find_channel(name);
      if (!ch) return error(c, m, "No such channel");
      ch->variables[std::string(var)] = std::string(val);
    } else {
      globals[std::string(var)] = std::string(val);
    }
    ack(c, m, "Variable Set");
    writer w;
    w.h("Event", "VarSet").h("Privilege", "dialplan,all");
    if (ch) snapshot(w, *ch);
    else w.h("Channel", "none").h("Uniqueid", "none");
    w.h("Variable", var).h("Value", val);
    emit(w.done(), class_of("dialplan"));
  }

  static std::string db_key(std::string_view family, std::string_view key) {
    return std::string(family) + "/" + std::string(key);
  }

  void dbput(const client_ptr& c, const owned_message& m) {
    std::string_view family = value(m, "Family"), key = value(m, "Key");
    if (family.empty()) return error(c, m, "No family specified.");
    if (key.empty()) return error(c, m, "No key specified.");
    astdb[db_key(family, key)] = std::string(value(m, "Val"));
    ack(c, m, "Updated database successfully");
  }

  void dbget(const client_ptr& c, const owned_message& m) {
    std::string_view family = value(m, "Family"), key = value(m, "Key");
    if (family.empty()) return error(c, m, "No family specified.");
    if (key.empty()) return error(c, m, "No key specified.");
    auto it = astdb.find(db_key(family, key));
    if (it == astdb.end()) return error(c, m, "Database entry not found");
    std::string_view id = m.action_id();
    std::string out = writer()
                          .h("Response", "Success")
                          .id(id)
                          .h("EventList", "start")
                          .h("Message", "Result will follow")
                          .done();
    out += writer().h("Event", "DBGetResponse").h("Family", family).h("Key", key).h("Val", it->second).id(id).done();
    out += writer().h("Event", "DBGetComplete").id(id).h("EventList", "Complete").h("ListItems", "1").done();
    send(c, out);
  }

  void dbdel(const client_ptr& c, const owned_message& m) {
    std::string_view family = value(m, "Family"), key = value(m, "Key");
    if (family.empty()) return error(c, m, "No family specified.");
    if (key.empty()) return error(c, m, "No key specified.");
    if (astdb.erase(db_key(family, key)) == 0) return error(c, m, "Database entry not found");
    ack(c, m, "Key deleted successfully");
  }

  void dbdeltree(const client_ptr& c, const owned_message& m) {
    std::string_view family = value(m, "Family"), key = value(m, "Key");
    if (family.empty()) return error(c, m, "No family specified.");
    std::string exact = key.empty() ? std::string(family) : db_key(family, key);
    std::string below = exact + "/";
    auto erased = std::erase_if(astdb, [&](const auto& kv) { return kv.first == exact || kv.first.starts_with(below); });
    if (erased == 0) return error(c, m, "Database entry not found");
    ack(c, m, "Key tree deleted successfully");
  }

  void corestatus(const client_ptr& c, const owned_message& m) {
    std::time_t t = system_clock::to_time_t(started);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char date[32], time[32];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    std::strftime(time, sizeof time, "%H:%M:%S", &tm);
    send(c, writer()
                .h("Response", "Success")
                .id(m.action_id())
                .h("CoreStartupDate", date)
                .h("CoreStartupTime", time)
                .h("CoreReloadDate", date)
                .h("CoreReloadTime", time)
                .h("CoreCurrentCalls", std::to_string(channels.size()))
                .h("CoreProcessedCalls", std::to_string(processed_calls))
                .done());
  }

  void coresettings(const client_ptr& c, const owned_message& m) {
    send(c, writer()
                .h("Response", "Success")
                .id(m.action_id())
                .h("AMIversion", opts.ami_version)
                .h("AsteriskVersion", opts.asterisk_version)
                .h("SystemName", "")
                .h("CoreMaxCalls", "0")
                .h("CoreMaxLoadAvg", "0.000000")
                .h("CoreRunUser", "")
                .h("CoreRunGroup", "")
                .h("CoreMaxFilehandles", "0")
                .h("CoreRealTimeEnabled", "No")
                .h("CoreCDRenabled", "Yes")
                .h("CoreHTTPenabled", "No")
                .done());
  }

  void listcommands(const client_ptr& c, const owned_message& m) {
    std::string out = writer().h("Response", "Success").id(m.action_id()).done();
    out.resize(out.size() - 2);  // the list goes before the empty line
    for (std::string_view line : list_commands) out.append(line).append("\r\n");
    out += "\r\n";
    send(c, out);
  }

  void hangup_action(const client_ptr& c, const owned_message& m) {
    std::string_view name = value(m, "Channel");
    if (name.empty()) return error(c, m, "No channel specified");
    auto ch = find_channel(name);
    if (!ch) return error(c, m, "No such channel");
    int cause = 16;
    if (std::string_view text = value(m, "Cause"); !text.empty()) cause = std::atoi(std::string(text).c_str());
    ack(c, m, "Channel Hungup");
    end_channel(ch, cause);
  }

  // "Dialer" <5550100>, <5550100>, 5550100: (number, name).
  static std::pair<std::string, std::string> parse_callerid(std::string_view text) {
    std::string name, number;
    auto lt = text.find('<');
    auto gt = text.rfind('>');
    if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
      number = std::string(text.substr(lt + 1, gt - lt - 1));
      std::string_view n = text.substr(0, lt);
      while (!n.empty() && n.back() == ' ') n.remove_suffix(1);
      if (n.size() >= 2 && n.front() == '"' && n.back() == '"') n = n.substr(1, n.size() - 2);
      name = std::string(n);
    } else {
      number = std::string(text);
    }
    return {number, name};
  }

  void originate(const client_ptr& c, const owned_message& m) {
    std::string_view dial = value(m, "Channel");
    if (dial.empty()) return error(c, m, "Channel not specified");
    if (dial.find('/') == std::string_view::npos) return error(c, m, "Invalid channel");
    originate_outcome outcome = opts.originate ? opts.originate(m) : originate_outcome{};
    bool async = is_true(value(m, "Async"));
    if (async) ack(c, m, "Originate successfully queued");
    auto finish_originate = [self = shared_from_this(), c, m, outcome, async] {
      self->originated(c, m, outcome, async);
    };
    if (outcome.delay.count() > 0) later(outcome.delay, std::move(finish_originate));
    else finish_originate();
  }

  void originated(const client_ptr& c, const owned_message& m, const originate_outcome& outcome, bool async) {
    std::string_view dial = value(m, "Channel");
    auto [cid_num, cid_name] = parse_callerid(value(m, "CallerID"));
    channel_ptr ch;
    if (outcome.answered) {
      ch = std::make_shared<channel>();
      bool local = dial.starts_with("Local/");
      ch->name = fmt::format("{}-{:08x}{}", dial, channel_seq++, local ? ";1" : "");
      ch->uniqueid = ch->linkedid = new_uniqueid();
      if (!cid_num.empty()) ch->cid_num = cid_num;
      if (!cid_name.empty()) ch->cid_name = cid_name;
      if (auto v = m.get("Context"); v && !v->empty()) ch->context = std::string(*v);
      if (auto v = m.get("Exten"); v && !v->empty()) ch->exten = std::string(*v);
      if (auto v = m.get("Priority"); v && !v->empty()) ch->priority = std::string(*v);
      if (local) {  // Local/exten@context dials that extension
        std::string_view target = dial.substr(6);
        if (auto at = target.find('@'); at != std::string_view::npos) {
          ch->exten = std::string(target.substr(0, at));
          ch->context = std::string(target.substr(at + 1));
        }
      }
      ch->application = std::string(value(m, "Application"));
      ch->data = std::string(value(m, "Data"));
      for (auto assignment : m.all("Variable"))
        if (auto eq = assignment.find('='); eq != std::string_view::npos)
          ch->variables[std::string(assignment.substr(0, eq))] = std::string(assignment.substr(eq + 1));
      channels[ch->name] = ch;
      ++processed_calls;
      ch->state = 0;
      writer created;
      created.h("Event", "Newchannel").h("Privilege", "call,all");
      snapshot(created, *ch);
      emit(created.done(), class_of("call"));
      ch->state = 6;
      writer up;
      up.h("Event", "Newstate").h("Privilege", "call,all");
      snapshot(up, *ch);
      emit(up.done(), class_of("call"));
    }
    if (!async) {
      if (outcome.answered) ack(c, m, "Originate successfully queued");
      else error(c, m, "Originate failed");
      return;
    }
    writer w;
    w.h("Event", "OriginateResponse")
        .h("Privilege", "call,all")
        .id(m.action_id())
        .h("Response", outcome.answered ? "Success" : "Failure")
        .h("Channel", ch ? std::string_view(ch->name) : dial);
    if (auto app = m.get("Application"); app && !app->empty()) w.h("Application", *app).h("Data", value(m, "Data"));
    else w.h("Context", value(m, "Context")).h("Exten", value(m, "Exten"));
    w.h("Reason", std::to_string(outcome.reason))
        .h("Uniqueid", ch ? std::string_view(ch->uniqueid) : "<unknown>")
        .h("CallerIDNum", cid_num.empty() ? "<unknown>" : cid_num)
        .h("CallerIDName", cid_name.empty() ? "<unknown>" : cid_name);
    emit(w.done(), class_of("call"));
  }

  void coreshowchannels(const client_ptr& c, const owned_message& m) {
    std::string_view id = m.action_id();
    std::string out = writer()
                          .h("Response", "Success")
                          .id(id)
                          .h("EventList", "start")
                          .h("Message", "Channels will follow")
                          .done();
    for (const auto& [name, ch] : channels) {
      writer w;
      w.h("Event", "CoreShowChannel").id(id);
      snapshot(w, *ch);
      w.h("Application", ch->application)
          .h("ApplicationData", ch->data)
          .h("Duration", duration(ch->created))
          .h("BridgeId", "");
      out += w.done();
    }
    out += writer()
               .h("Event", "CoreShowChannelsComplete")
               .id(id)
               .h("EventList", "Complete")
               .h("ListItems", std::to_string(channels.size()))
               .done();
    send(c, out);
  }

  void status(const client_ptr& c, const owned_message& m) {
    std::string_view id = m.action_id();
    std::vector<channel_ptr> listed;
    if (std::string_view name = value(m, "Channel"); !name.empty()) {
      auto ch = find_channel(name);
      if (!ch) return error(c, m, "No such channel");
      listed.push_back(ch);
    } else {
      for (const auto& entry : channels) listed.push_back(entry.second);
    }
    std::string out = writer()
                          .h("Response", "Success")
                          .id(id)
                          .h("EventList", "start")
                          .h("Message", "Channel status will follow")
                          .done();
    for (const auto& ch : listed) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - ch->created).count();
      writer w;
      w.h("Event", "Status").h("Privilege", "Call");
      snapshot(w, *ch);
      w.h("Type", ch->tech())
          .h("DNID", "")
          .h("EffectiveConnectedLineNum", "<unknown>")
          .h("EffectiveConnectedLineName", "<unknown>")
          .h("TimeToHangup", "0")
          .h("BridgeID", "")
          .h("Application", ch->application)
          .h("Data", ch->data)
          .h("Nativeformats", "(ulaw)")
          .h("Readformat", "ulaw")
          .h("Readtrans", "")
          .h("Writeformat", "ulaw")
          .h("Writetrans", "")
          .h("Callgroup", "0")
          .h("Pickupgroup", "0")
          .h("Seconds", std::to_string(seconds))
          .id(id);
      out += w.done();
    }
    auto n = std::to_string(listed.size());
    out += writer()
               .h("Event", "StatusComplete")
               .id(id)
               .h("EventList", "Complete")
               .h("ListItems", n)
               .h("Items", n)
               .done();
    send(c, out);
  }

  void userevent(const client_ptr& c, const owned_message& m) {
    ack(c, m, "Event Sent");
    writer w;
    w.h("Event", "UserEvent").h("Privilege", "user,all").h("UserEvent", value(m, "UserEvent"));
    for (const auto& h : m.headers())
      if (!iequals(h.key, "UserEvent") && !iequals(h.key, "Action")) w.h(h.key, h.value);
    emit(w.done(), class_of("user"));
  }

  // ---- channels ending, AsyncAGI

  // The far end hung up, or a Hangup action: AsyncAGIEnd for an AGI call, then Hangup.
  void end_channel(const channel_ptr& ch, int cause) {
    if (ch->gone) return;
    if (ch->agi) {
      if (ch->agi->running) finish_command(*ch, "200 result=-1\n");  // the command in progress ends as the caller goes
      agi_event(*ch, "AsyncAGIEnd", [](writer&) {});
    }
    ch->gone = true;
    channels.erase(ch->name);
    writer w;
    w.h("Event", "Hangup").h("Privilege", "call,all");
    snapshot(w, *ch);
    w.h("Cause", std::to_string(cause)).h("Cause-txt", cause_text(cause));
    emit(w.done(), class_of("call"));
  }

  template <class Extra>
  void agi_event(const channel& ch, std::string_view name, Extra&& extra) {
    writer w;
    w.h("Event", name).h("Privilege", "agi,all");
    snapshot(w, ch);
    extra(w);
    emit(w.done(), class_of("agi"));
  }

  void start_async_agi(agi_call call) {
    if (channels.count(call.channel) > 0) {
      log(log_level::warning, fmt::format("ami sim: channel {} already exists: AsyncAGI call not started", call.channel));
      return;
    }
    auto ch = std::make_shared<channel>();
    ch->name = call.channel;
    ch->uniqueid = ch->linkedid = call.uniqueid;
    ch->context = call.context;
    ch->exten = call.extension;
    ch->application = "AGI";
    ch->data = "agi:async";
    for (const auto& a : call.args) ch->data += "," + a;
    if (!call.callerid.empty()) ch->cid_num = call.callerid;
    if (!call.calleridname.empty()) ch->cid_name = call.calleridname;
    std::string env = fmt::format(
        "agi_request: async\nagi_channel: {}\nagi_language: en\nagi_type: {}\nagi_uniqueid: {}\nagi_version: {}\n"
        "agi_callerid: {}\nagi_calleridname: {}\nagi_callingpres: {}\nagi_callingani2: 0\nagi_callington: 0\n"
        "agi_callingtns: 0\nagi_dnid: unknown\nagi_rdnis: unknown\nagi_context: {}\nagi_extension: {}\n"
        "agi_priority: {}\nagi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: {}\n",
        ch->name, ch->tech(), ch->uniqueid, opts.asterisk_version, call.callerid.empty() ? "unknown" : call.callerid,
        call.calleridname.empty() ? "unknown" : call.calleridname, call.callerid.empty() ? 67 : 0, ch->context,
        ch->exten, ch->priority, 139754585818816u + channel_seq);
    for (std::size_t i = 0; i < call.args.size(); ++i) env += fmt::format("agi_arg_{}: {}\n", i + 1, call.args[i]);
    env += '\n';
    ch->agi = std::make_unique<agi_state>(std::move(call));
    channels[ch->name] = ch;
    ++processed_calls;
    agi_event(*ch, "AsyncAGIStart", [&](writer& w) { w.h("Env", uri_encode(env)); });
  }

  void agi(const client_ptr& c, const owned_message& m) {
    std::string_view name = value(m, "Channel"), text = value(m, "Command");
    if (name.empty() || text.empty()) return error(c, m, "Both, Channel and Command are *required*");
    auto ch = find_channel(name);
    if (!ch) return error(c, m, fmt::format("Channel {} does not exist.", name));
    if (!ch->agi) return error(c, m, fmt::format("Failed to add AGI command to channel {} queue", name));
    ack(c, m, "Added AGI command to queue");
    ch->agi->queue.push_back({std::string(text), std::string(value(m, "CommandID")), {}});
    run_agi(ch);
  }

  // Runs the queued commands in order until one has to wait (a delay rule, a
  // held command) or the AGI ends.
  void run_agi(const channel_ptr& ch) {
    agi_state& a = *ch->agi;
    while (!ch->gone && !a.running && !a.queue.empty()) {
      a.running = std::move(a.queue.front());
      a.queue.pop_front();
      a.running->internal = std::to_string(rng() % 2147483647u);
      agi_event(*ch, "AGIExecStart", [&](writer& w) {
        w.h("CommandId", a.running->internal).h("Command", a.running->text);
      });
      std::string reply = a.conversation.reply(a.running->text);
      if (reply.starts_with("HANGUP\n")) reply.erase(0, 7);  // AsyncAGI tells of a hangup with AsyncAGIEnd
      const command_rule& rule = a.conversation.last_rule();
      if (rule.hold) return;  // parked: it ends when the channel does
      milliseconds wait = rule.delay + a.conversation.think_time();
      if (wait.count() > 0) {
        std::uint64_t step = ++a.step;
        later(wait, [self = shared_from_this(), ch, step, reply] {
          if (ch->gone || ch->agi->step != step) return;
          self->after_command(ch, reply);
          self->run_agi(ch);
        });
        return;
      }
      after_command(ch, reply);
    }
  }

  void after_command(const channel_ptr& ch, const std::string& reply) {
    bool ended = ch->agi->conversation.hung_up() || ch->agi->conversation.last_command() == "ASYNCAGI BREAK";
    finish_command(*ch, reply);
    if (ended) end_channel(ch, 16);  // after a HANGUP or a BREAK the simulated call is over
  }

  // AGIExecEnd and AsyncAGIExec for the running command.
  void finish_command(channel& ch, const std::string& reply) {
    agi_state& a = *ch.agi;
    if (!a.running) return;
    agi_state::command cmd = std::move(*a.running);
    a.running.reset();
    ++a.step;
    // The code of the reply's last line: "100 Trying..." comes before GOSUB's 200.
    std::string_view last = reply;
    while (last.ends_with('\n')) last.remove_suffix(1);
    if (auto nl = last.rfind('\n'); nl != std::string_view::npos) last.remove_prefix(nl + 1);
    std::string_view code = last.substr(0, 3);
    std::string_view outcome = code == "200"   ? "Success"
                               : code == "510" ? "Invalid or unknown command"
                               : code == "511" ? "Command Not Permitted on a dead channel or intercepted channel"
                               : code == "520" ? "Usage"
                                               : "Failure";
    agi_event(ch, "AGIExecEnd", [&](writer& w) {
      w.h("CommandId", cmd.internal).h("Command", cmd.text).h("ResultCode", code).h("Result", outcome);
    });
    agi_event(ch, "AsyncAGIExec", [&](writer& w) {
      w.h("Result", uri_encode(reply));
      if (!cmd.id.empty()) w.h("CommandId", cmd.id);
    });
  }

  // ---- stopping

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
    for (auto& [name, ch] : channels) ch->gone = true;
    channels.clear();
  }
};

// ---- ami_server

std::string md5_login_key(std::string_view challenge, std::string_view secret) {
  return proto::ami::login_key(challenge, secret);
}

ami_server::ami_server(runtime& rt, ami_server_options options) : ami_server(rt.executor(0), std::move(options)) {}

ami_server::ami_server(executor_type ex, ami_server_options options)
    : state_(std::make_shared<state>(ex, std::move(options))) {}

ami_server::~ami_server() { stop(); }

result<void> ami_server::start() {
  auto ep = io::parse_endpoint(state_->opts.listen);
  if (!ep) return fail(std::move(ep).error());
  state_->endpoint = *ep;
  if (auto loaded = state_->load_tls(); !loaded) return loaded;
  auto acc = state_->bind();
  if (!acc) return fail(std::move(acc).error());
  state_->endpoint.port((*acc)->local_endpoint().port());
  state_->port = state_->endpoint.port();
  state_->post([s = state_.get(), a = *acc] { s->listen_on(a); });
  return ok();
}

std::uint16_t ami_server::port() const noexcept { return state_->port.load(); }

void ami_server::rule(std::string action, action_rule r) {
  std::lock_guard lock(state_->mutex);
  auto next = std::make_shared<state::rule_map>(*state_->rules);
  (*next)[std::move(action)] = std::move(r);
  state_->rules = std::move(next);
}

void ami_server::clear_rules() {
  std::lock_guard lock(state_->mutex);
  state_->rules = std::make_shared<state::rule_map>();
}

void ami_server::broadcast(ami_fields event) {
  state_->post([s = state_.get(), e = std::move(event)] { s->emit(e); });
}

void ami_server::start_flood(event_flood flood, std::function<void()> done) {
  state_->post([s = state_.get(), flood, done = std::move(done)] {
    if (s->stopped) {
      if (done) done();
      return;
    }
    asio::co_spawn(s->ex, state::flood_loop(s->shared_from_this(), flood, ++s->flood_generation, done),
                   asio::detached);
  });
}

void ami_server::stop_flood() {
  state_->post([s = state_.get()] { ++s->flood_generation; });
}

void ami_server::disconnect_all(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->close_all();
    if (done) done();
  });
}

void ami_server::stop_listening(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->stop_listening();
    if (done) done();
  });
}

result<void> ami_server::start_listening() {
  if (state_->port.load() == 0) return fail(errc::invalid_argument, "start() first");
  auto acc = state_->bind();
  if (!acc) return fail(std::move(acc).error());
  state_->post([s = state_.get(), a = *acc] { s->listen_on(a); });
  return ok();
}

void ami_server::stop(std::function<void()> done) {
  state_->post([s = state_.get(), done = std::move(done)] {
    s->stop();
    if (done) done();
  });
}

void ami_server::start_async_agi(agi_call call) {
  state_->post([s = state_.get(), call = std::move(call)]() mutable { s->start_async_agi(std::move(call)); });
}

void ami_server::hangup(std::string channel) {
  state_->post([s = state_.get(), channel = std::move(channel)] {
    if (auto ch = s->find_channel(channel)) s->end_channel(ch, 16);
  });
}

ami_server_stats ami_server::stats() const {
  std::lock_guard lock(state_->mutex);
  ami_server_stats out = state_->counters;
  for (const auto& [name, n] : state_->actions) out.actions.emplace(name, n);
  return out;
}

std::uint64_t ami_server::actions_received(std::string_view name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->actions.find(name);
  return it == state_->actions.end() ? 0 : it->second;
}

}  // namespace costrix::sim
