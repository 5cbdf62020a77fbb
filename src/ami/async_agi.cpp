#include <costrix/ami/async_agi.hpp>

#include <costrix/io/stream.hpp>
#include <costrix/log.hpp>
#include <costrix/proto/ami/url_decode.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <string>

#include <sys/socket.h>
#include <unistd.h>

namespace costrix::ami {
namespace asio = boost::asio;

namespace {

// One channel in AGI(agi:async). Its session reads and writes one end of a
// socket pair, as it would a FastAGI connection; the other end (`pbx`) takes
// the session's command lines, which go out as AGI actions, and gives it the
// environment and each AsyncAGIExec's Result.
struct session_pipe {
  session_pipe(client::executor_type ex, int session_fd, int pbx_fd, std::string channel_name,
         std::string unique_id, const agi::session_options& options)
      : channel(std::move(channel_name)),
        uniqueid(std::move(unique_id)),
        session_side(io::stream::adopt(ex, session_fd)),
        pbx(io::stream::adopt(ex, pbx_fd)),
        session(session_side, options) {}

  std::string channel;
  std::string uniqueid;  // AsyncAGIStart's Uniqueid; the environment's agi_uniqueid once read
  io::stream session_side;
  io::stream pbx;
  agi::session session;
  std::string pending_id;  // the CommandID whose AsyncAGIExec is due
  std::uint64_t commands = 0;
  bool broke = false;  // the script sent ASYNCAGI BREAK itself
  bool ended = false;  // AsyncAGIEnd: the channel has left AGI

  // Hands bytes to the session; they are small (a reply, an environment) and
  // the socket pair's buffer is empty, so a plain write takes them whole.
  void give(std::string bytes) {
    boost::system::error_code ec;
    std::size_t n = pbx.write_some(bytes, ec);
    if (ec && ec != asio::error::would_block) return pbx.close();
    if (n == bytes.size()) return;
    bytes.erase(0, n);
    asio::co_spawn(
        pbx.get_executor(),
        [](session_pipe& b, std::string rest) -> awaitable<void> { co_await b.pbx.write_all(rest); }(*this, std::move(bytes)),
        asio::detached);
  }
  // The channel has left AGI. After ASYNCAGI BREAK the session reads end of
  // stream. Otherwise the caller hung up: the session reads `HANGUP`, as a
  // FastAGI session does, and later commands are answered as on a dead channel.
  void end() {
    if (ended) return;
    ended = true;
    if (broke) return pbx.close();
    give("HANGUP\n");
  }
};

// Asterisk's answer to a command on a channel that has left AGI.
constexpr std::string_view dead_channel_reply = "511 Command Not Permitted on a dead channel or intercepted channel\n";

enum class sub_event { start, exec, end, other };

sub_event kind_of(const message& m) {
  std::string_view name = m.name();
  if (proto::ami::iequals(name, "AsyncAGI")) name = m.get("SubEvent").value_or("");
  else if (name.size() > 8 && proto::ami::iequals(name.substr(0, 8), "AsyncAGI")) name.remove_prefix(8);
  if (proto::ami::iequals(name, "Start")) return sub_event::start;
  if (proto::ami::iequals(name, "Exec")) return sub_event::exec;
  if (proto::ami::iequals(name, "End")) return sub_event::end;
  return sub_event::other;
}

// A line about one channel: its channel and uniqueid follow the text, as a
// FastAGI call's do.
void log_channel(log_level level, std::string_view channel, std::string_view uniqueid, std::string_view line) {
  log(level, {.channel = channel, .uniqueid = uniqueid}, line);
}

void log_threw(const session_pipe& b, std::exception_ptr e) {
  std::string what = "an exception that is not a std::exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  log_channel(log_level::error, b.channel, b.uniqueid, fmt::format("asyncagi: script threw: {}", what));
}

}  // namespace

struct async_agi::state : std::enable_shared_from_this<state> {
  state(client& cl, handler h, async_agi_options o) : c(cl), script(std::move(h)), options(std::move(o)) {}

  client& c;
  handler script;
  async_agi_options options;
  std::vector<subscription> subscriptions;
  std::map<std::string, std::shared_ptr<session_pipe>, std::less<>> channels;  // on the client's executor
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> refused{0};

  void on_message(const message& m) {
    switch (kind_of(m)) {
      case sub_event::start: return start(m);
      case sub_event::exec: {
        auto b = find(m.get("Channel").value_or(""));
        auto id = m.get("CommandID");
        if (b && id && *id == b->pending_id) b->give(proto::ami::url_decode(m.get("Result").value_or("")));
        return;
      }
      case sub_event::end: {
        auto it = channels.find(m.get("Channel").value_or(""));
        if (it == channels.end()) return;
        it->second->end();
        channels.erase(it);
        return;
      }
      case sub_event::other:
        return;
    }
  }

  std::shared_ptr<session_pipe> find(std::string_view channel) {
    auto it = channels.find(channel);
    return it == channels.end() ? nullptr : it->second;
  }

  void start(const message& m) {
    std::string channel(m.get("Channel").value_or(""));
    std::string uniqueid(m.get("Uniqueid").value_or(""));
    auto env = m.get("Env");
    int fds[2];
    if (channel.empty() || !env || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      refused.fetch_add(1, std::memory_order_relaxed);
      if (log_enabled(log_level::warning))
        log_channel(log_level::warning, channel, uniqueid,
                    fmt::format("asyncagi: cannot start a script: {}",
                                channel.empty() ? "no Channel in AsyncAGIStart"
                                : env       ? "no descriptors for its socket pair"
                                            : "no Env in AsyncAGIStart"));
      // No script will run: let the channel go on in the dialplan rather than wait in AGI.
      if (!channel.empty() && options.break_on_return)
        asio::co_spawn(c.get_executor(), release(shared_from_this(), std::move(channel), std::move(uniqueid)),
                       asio::detached);
      return;
    }
    auto b = std::make_shared<session_pipe>(c.get_executor(), fds[0], fds[1], channel, std::move(uniqueid),
                                            options.session);
    if (auto old = channels.find(channel); old != channels.end()) old->second->end();  // its End was lost
    channels[channel] = b;
    b->give(proto::ami::url_decode(*env));
    started.fetch_add(1, std::memory_order_relaxed);
    active.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    asio::co_spawn(c.get_executor(), run(self, b), asio::detached);
    asio::co_spawn(c.get_executor(), pump(self, b), asio::detached);
  }

  // ASYNCAGI BREAK for a channel no script runs on.
  static awaitable<void> release(std::shared_ptr<state> self, std::string channel, std::string uniqueid) {
    agi_command brk{channel, "ASYNCAGI BREAK", channel + "/break"};
    auto sent = co_await self->c.send(std::move(brk));
    if (!sent)
      log_channel(log_level::info, channel, uniqueid, fmt::format("asyncagi: ASYNCAGI BREAK failed: {}", sent.error().what()));
  }

  // The script, then ASYNCAGI BREAK if the channel is still in AGI.
  static awaitable<void> run(std::shared_ptr<state> self, std::shared_ptr<session_pipe> b) {
    auto started = co_await b->session.start();
    if (started && !b->session.env().uniqueid().empty()) b->uniqueid = std::string(b->session.env().uniqueid());
    if (started) {
      std::exception_ptr thrown;
      try {
        co_await self->script(b->session);
      } catch (...) {
        thrown = std::current_exception();
      }
      if (thrown) log_threw(*b, thrown);
    } else {
      log_channel(log_level::warning, b->channel, b->uniqueid,
                  fmt::format("asyncagi: bad environment: {}", started.error().what()));
    }
    b->session.close();
    if (self->options.break_on_return && !b->ended && !b->broke) {
      agi_command brk{b->channel, "ASYNCAGI BREAK", b->channel + "/break"};
      co_await self->c.send(std::move(brk));
    }
    if (auto it = self->channels.find(b->channel); it != self->channels.end() && it->second == b)
      self->channels.erase(it);
    b->pbx.close();
    self->active.fetch_sub(1, std::memory_order_relaxed);
  }

  // Each command line the session writes goes out as an AGI action.
  static awaitable<void> pump(std::shared_ptr<state> self, std::shared_ptr<session_pipe> b) {
    io::line_reader reader(b->pbx, self->options.session.max_line);
    for (;;) {
      auto line = co_await reader.read_line();
      if (!line) break;
      if (b->ended) {
        b->give(std::string(dead_channel_reply));
        continue;
      }
      agi_command cmd{b->channel, std::string(*line), fmt::format("{}/{}", b->channel, ++b->commands)};
      if (cmd.command.starts_with("ASYNCAGI BREAK")) b->broke = true;
      b->pending_id = cmd.command_id;
      auto queued = co_await self->c.send(std::move(cmd));
      if (queued) continue;
      log_channel(log_level::info, b->channel, b->uniqueid,
                  fmt::format("asyncagi: AGI action failed: {}", queued.error().what()));
      // Asterisk refused it: the channel hung up (or left AGI) before its
      // AsyncAGIEnd reached us. The session reads HANGUP, as when the End comes
      // first, and the command is answered as on a dead channel.
      if (queued.error() == errc::not_found || queued.error() == errc::failed) {
        b->end();
        if (!b->broke) b->give(std::string(dead_channel_reply));
        continue;
      }
      b->pbx.close();  // the connection to Asterisk is gone
      break;
    }
  }
};

async_agi::async_agi(client& c, handler script, async_agi_options options)
    : state_(std::make_shared<state>(c, std::move(script), std::move(options))) {
  for (const char* name : {"AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd", "AsyncAGI"})
    state_->subscriptions.push_back(c.on_event(name, [s = state_](const message& m) { s->on_message(m); }));
  // Replies sent while the connection is down are lost: its scripts end.
  c.on_state([w = std::weak_ptr<state>(state_)](connection_state now) {
    auto s = w.lock();
    if (!s || now == connection_state::connected) return;
    for (auto& [name, b] : s->channels) b->pbx.close();
  });
}

async_agi::~async_agi() {
  for (auto id : state_->subscriptions) state_->c.unsubscribe(id);
}

async_agi_stats async_agi::stats() const noexcept {
  return {state_->started.load(std::memory_order_relaxed), state_->active.load(std::memory_order_relaxed),
          state_->refused.load(std::memory_order_relaxed)};
}

}  // namespace costrix::ami
