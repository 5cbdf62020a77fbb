// The series a dashboard or an alert reads, each driven by the simulators:
// sessions ended by cause, refusals, AMI timeouts, reconnects, the event
// queues, errors by kind; and the bounded series named at run time.
#include <costrix/esl/client.hpp>
#include <costrix/esl/server.hpp>
#include <costrix/fastagi/server.hpp>
#include <costrix/metrics.hpp>
#include <costrix/sim/agi_caller.hpp>
#include <costrix/sim/esl_caller.hpp>
#include <costrix/sim/esl_server.hpp>

#include "../src/library_metrics.hpp"
#include "ami/fixture.hpp"
#include "metrics/delta.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace metrics = costrix::metrics;
namespace sim = costrix::sim;
using asio::ip::tcp;
using costrix::awaitable;
using costrix::errc;
using costrix::test::metrics_baseline;
using costrix::test::metrics_enabled;

namespace {

const metrics::labels fastagi_label{{"protocol", "fastagi"}};
const metrics::labels esl_label{{"protocol", "esl_outbound"}};

metrics::labels ended(const metrics::labels& protocol, std::string cause) {
  metrics::labels l = protocol;
  l.emplace_back("cause", std::move(cause));
  return l;
}

metrics::labels error_kind(std::string protocol, std::string kind) {
  return {{"protocol", std::move(protocol)}, {"kind", std::move(kind)}};
}

// A FastAGI server on one core running `h` for every script.
struct fastagi_rig {
  costrix::runtime rt{{.threads = 1}};
  costrix::fastagi::server srv;
  bool stopped = false;

  fastagi_rig(costrix::fastagi::server_options o, costrix::fastagi::handler h) : srv(rt, any_port(std::move(o))) {
    srv.default_route(std::move(h));
    REQUIRE(srv.start());
    rt.start();
  }
  ~fastagi_rig() { stop(0ms); }
  static costrix::fastagi::server_options any_port(costrix::fastagi::server_options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
  // Returns once every session has ended (by itself within `grace`, or closed
  // after it): every series a session counts is in by then.
  void stop(std::chrono::milliseconds grace = 30s) {
    if (stopped) return;
    stopped = true;
    costrix::test::latch_flag done;
    srv.stop(grace, [&] { done.set(); });
    done.wait();
    rt.stop();
    rt.join();
  }
};

// The same for ESL outbound.
struct esl_rig {
  costrix::runtime rt{{.threads = 1}};
  costrix::esl::server srv;
  bool stopped = false;

  explicit esl_rig(costrix::esl::handler h) : srv(rt, {.listen = "127.0.0.1:0"}) {
    srv.default_route(std::move(h));
    REQUIRE(srv.start());
    rt.start();
  }
  ~esl_rig() { stop(0ms); }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
  void stop(std::chrono::milliseconds grace = 30s) {
    if (stopped) return;
    stopped = true;
    costrix::test::latch_flag done;
    srv.stop(grace, [&] { done.set(); });
    done.wait();
    rt.stop();
    rt.join();
  }
};

// One simulated Asterisk call to `rig`, played to its end.
costrix::result<sim::call_report> play_call(fastagi_rig& rig, sim::agi_call call) {
  asio::io_context client;
  return costrix::test::run(client, sim::call_fastagi(rig.endpoint(), std::move(call)));
}

// A connected client socket as an io::stream on `ctx`.
costrix::io::stream connect_stream(asio::io_context& ctx, const tcp::endpoint& to) {
  tcp::socket socket(ctx);
  socket.connect(to);
  return costrix::io::stream::adopt(ctx.get_executor(), socket.release());
}

}  // namespace

// ---- names counted at run time ----

TEST_CASE("metrics series: an ESL application counted on two threads has one series and none as other",
          "[metrics][series]") {
  metrics_enabled on;
  const metrics_baseline base;
  // 150 names no other test uses, each counted once on one thread, then once
  // on another: 150 distinct names, well under the 256 a family may name.
  constexpr int names = 150;
  auto count_all = [] {
    for (int i = 0; i < names; ++i) costrix::metrics::lib::count_esl_execute(fmt::format("series_test_app_{}", i));
  };
  std::thread first(count_all);
  first.join();
  std::thread second(count_all);
  second.join();
  int own_series = 0;
  for (int i = 0; i < names; ++i)
    if (base.delta("costrix_esl_executes_total", {{"app", fmt::format("series_test_app_{}", i)}}) == 2) ++own_series;
  CHECK(own_series == names);
  CHECK(base.delta("costrix_esl_executes_total", {{"app", "other"}}) == 0);
}

// ---- sessions ended, by cause ----

TEST_CASE("metrics series: a FastAGI handler that returns ends handler_returned", "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  fastagi_rig rig({}, [](costrix::agi::session& s) -> awaitable<void> { co_await s.answer(); });
  sim::agi_call call;
  auto r = play_call(rig, call);
  CHECK(r);
  rig.stop();
  CHECK(base.delta("costrix_sessions_total", fastagi_label) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "handler_returned")) == 1);
  CHECK(base.delta("costrix_sessions_active", fastagi_label) == 0);
}

TEST_CASE("metrics series: a FastAGI caller who hangs up ends caller_hung_up", "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::optional<errc> after;
  fastagi_rig rig({}, [&](costrix::agi::session& s) -> awaitable<void> {
    co_await s.answer();
    co_await s.stream_file("welcome");
    auto n = co_await s.noop();  // Asterisk said HANGUP before its reply
    if (!n) after = static_cast<errc>(n.error().code.value());
  });
  sim::agi_call call;
  call.hangup_during = 1;  // STREAM FILE
  auto r = play_call(rig, call);
  REQUIRE(r);
  CHECK(r->hung_up);
  rig.stop();
  CHECK(after == errc::hangup);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "caller_hung_up")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "handler_returned")) == 0);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "disconnected")) == 0);
}

TEST_CASE("metrics series: a FastAGI connection dropped mid-script ends disconnected not handler_returned",
          "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::optional<errc> seen;
  fastagi_rig rig({}, [&](costrix::agi::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    if (!a) seen = static_cast<errc>(a.error().code.value());
  });
  asio::io_context client;
  auto stream = connect_stream(client, rig.endpoint());
  sim::agi_call call;
  call.rules["ANSWER"] = {.hold = true};  // no reply: the call waits at ANSWER
  bool held = false;
  auto played = asio::co_spawn(client, sim::play(stream, call, {.on_hold = [&] { held = true; }}), asio::use_future);
  REQUIRE(costrix::test::run_until(client, [&] { return held; }));
  stream.close();  // the network drops the call with ANSWER in flight
  REQUIRE(costrix::test::run_until(client, played));
  rig.stop();
  CHECK(seen == errc::disconnected);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "disconnected")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "handler_returned")) == 0);
}

TEST_CASE("metrics series: a FastAGI command past command_timeout ends command_timeout",
          "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::optional<errc> seen;
  costrix::fastagi::server_options o;
  o.session.command_timeout = 50ms;
  fastagi_rig rig(o, [&](costrix::agi::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    if (!a) seen = static_cast<errc>(a.error().code.value());
  });
  sim::agi_call call;
  call.rules["ANSWER"] = {.hold = true};  // Asterisk never answers: the session closes at the timeout
  (void)play_call(rig, call);
  rig.stop();
  CHECK(seen == errc::timeout);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "command_timeout")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "timeout")) == 0);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "handler_returned")) == 0);
  CHECK(base.delta("costrix_errors_total", error_kind("agi", "timeout")) == 1);
}

TEST_CASE("metrics series: a FastAGI reply that is not AGI ends protocol_error", "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::optional<errc> seen;
  fastagi_rig rig({}, [&](costrix::agi::session& s) -> awaitable<void> {
    auto a = co_await s.answer();
    if (!a) seen = static_cast<errc>(a.error().code.value());
  });
  sim::agi_call call;
  call.rules["ANSWER"] = {.reply = "this is not an AGI reply"};
  (void)play_call(rig, call);
  rig.stop();
  CHECK(seen == errc::protocol);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "protocol_error")) == 1);
  CHECK(base.delta("costrix_errors_total", error_kind("agi", "protocol")) == 1);
}

TEST_CASE("metrics series: an ESL outbound socket closed mid-call ends disconnected", "[metrics][series][esl]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::atomic<bool> started{false};
  esl_rig rig([&](costrix::esl::session& s) -> awaitable<void> {
    started = true;
    co_await s.answer();
    co_await s.stream_file("welcome.wav");
  });
  asio::io_context client;
  auto stream = connect_stream(client, rig.endpoint());
  sim::esl_call call;
  call.rules["answer"] = {.hold = true};
  auto played = asio::co_spawn(client, sim::play_esl(stream, call), asio::use_future);
  REQUIRE(costrix::test::run_until(client, [&] { return started.load(); }));
  stream.close();  // FreeSWITCH (or the network) drops the socket, no hangup said
  REQUIRE(costrix::test::run_until(client, played));
  rig.stop();
  CHECK(base.delta("costrix_sessions_ended_total", ended(esl_label, "disconnected")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(esl_label, "handler_returned")) == 0);
  CHECK(base.delta("costrix_sessions_ended_total", ended(esl_label, "caller_hung_up")) == 0);
}

TEST_CASE("metrics series: an ESL caller who hangs up ends caller_hung_up", "[metrics][series][esl]") {
  metrics_enabled on;
  const metrics_baseline base;
  esl_rig rig([](costrix::esl::session& s) -> awaitable<void> {
    co_await s.answer();
    co_await s.stream_file("welcome.wav");
  });
  sim::esl_call call;
  call.hangup_during = 1;  // the playback
  asio::io_context client;
  auto r = costrix::test::run(client, sim::call_esl_outbound(rig.endpoint(), call));
  CHECK(r);
  rig.stop();
  CHECK(base.delta("costrix_sessions_ended_total", ended(esl_label, "caller_hung_up")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(esl_label, "disconnected")) == 0);
}

// ---- refusals ----

TEST_CASE("metrics series: a call over max_sessions counts in sessions_refused_total", "[metrics][series][fastagi]") {
  metrics_enabled on;
  costrix::test::captured_log log;  // the refusal's warning
  const metrics_baseline base;
  fastagi_rig rig({.max_sessions = 1}, [](costrix::agi::session& s) -> awaitable<void> { co_await s.answer(); });
  asio::io_context client;
  sim::agi_call first;
  first.rules["ANSWER"] = {.hold = true};  // the one session the server takes stays
  bool held = false;
  auto parked = asio::co_spawn(client, sim::call_fastagi(rig.endpoint(), first, {.on_hold = [&] { held = true; }}),
                               asio::use_future);
  REQUIRE(costrix::test::run_until(client, [&] { return held; }));
  sim::agi_call second;
  auto refused = asio::co_spawn(client, sim::call_fastagi(rig.endpoint(), second), asio::use_future);
  REQUIRE(costrix::test::run_until(client, refused));
  CHECK(rig.srv.refused() == 1);
  CHECK(base.delta("costrix_sessions_refused_total", fastagi_label) == 1);
  CHECK(base.delta("costrix_sessions_total", fastagi_label) == 1);
  CHECK(base.delta("costrix_sessions_active", fastagi_label) == 1);
  rig.stop(0ms);  // ends the parked call
  REQUIRE(costrix::test::run_until(client, parked));
  CHECK(base.delta("costrix_sessions_active", fastagi_label) == 0);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "server_stop")) == 1);
}

TEST_CASE("metrics series: a peer outside the allow-list counts in sessions_refused_total",
          "[metrics][series][fastagi]") {
  metrics_enabled on;
  costrix::test::captured_log log;  // the refusal's warning
  const metrics_baseline base;
  fastagi_rig rig({.allow = {"192.0.2.0/24"}}, [](costrix::agi::session& s) -> awaitable<void> { co_await s.answer(); });
  sim::agi_call call;
  (void)play_call(rig, call);  // 127.0.0.1 is closed at once
  rig.stop();
  CHECK(rig.srv.refused() == 1);
  CHECK(base.delta("costrix_sessions_refused_total", fastagi_label) == 1);
  CHECK(base.delta("costrix_sessions_total", fastagi_label) == 0);
  CHECK(base.delta("costrix_sessions_active", fastagi_label) == 0);
}

// ---- gauges and enable() ----

TEST_CASE("metrics series: a gauge raised while its registry was disabled and lowered after comes back to 0",
          "[metrics][series]") {
  metrics::registry r;
  auto g = r.add_gauge("open_things", "Open things");
  r.enable(false);
  g.inc();
  r.enable();
  CHECK(r.collect().value("open_things") == 1);
  g.dec();
  CHECK(r.collect().value("open_things") == 0);
}

TEST_CASE("metrics series: sessions_active stays whole when metrics are enabled mid-session",
          "[metrics][series][fastagi]") {
  metrics::library().enable(false);
  const double before = metrics_baseline::now("costrix_sessions_active", fastagi_label);
  fastagi_rig rig({}, [](costrix::agi::session& s) -> awaitable<void> { co_await s.answer(); });
  asio::io_context client;
  sim::agi_call call;
  call.rules["ANSWER"] = {.hold = true};
  bool held = false;
  auto parked =
      asio::co_spawn(client, sim::call_fastagi(rig.endpoint(), call, {.on_hold = [&] { held = true; }}), asio::use_future);
  REQUIRE(costrix::test::run_until(client, [&] { return held; }));  // admitted while metrics were off
  metrics_enabled on;
  CHECK(metrics_baseline::now("costrix_sessions_active", fastagi_label) == before + 1);
  rig.stop(0ms);  // the session ends with metrics on
  REQUIRE(costrix::test::run_until(client, parked));
  CHECK(metrics_baseline::now("costrix_sessions_active", fastagi_label) == before);
}

// ---- AGI errors by kind ----

TEST_CASE("metrics series: AGI commands Asterisk rejects count in errors_total by kind", "[metrics][series][fastagi]") {
  metrics_enabled on;
  const metrics_baseline base;
  std::optional<errc> unknown, usage;
  fastagi_rig rig({}, [&](costrix::agi::session& s) -> awaitable<void> {
    auto a = co_await s.raw("NO SUCH COMMAND");
    if (!a) unknown = static_cast<errc>(a.error().code.value());
    auto b = co_await s.raw("STREAM FILE");
    if (!b) usage = static_cast<errc>(b.error().code.value());
  });
  sim::agi_call call;
  auto r = play_call(rig, call);
  CHECK(r);
  rig.stop();
  CHECK(unknown == errc::invalid_command);
  CHECK(usage == errc::usage);
  CHECK(base.delta("costrix_errors_total", error_kind("agi", "invalid_command")) == 1);
  CHECK(base.delta("costrix_errors_total", error_kind("agi", "usage")) == 1);
  CHECK(base.delta("costrix_sessions_ended_total", ended(fastagi_label, "handler_returned")) == 1);
}

// ---- AMI ----

TEST_CASE("metrics series: an AMI action with no answer counts as timed out and as a timeout error",
          "[metrics][series][ami]") {
  metrics_enabled on;
  const metrics_baseline base;
  ami_test::fixture f{{.action_timeout = 50ms}};
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto pong = co_await f.client.send(costrix::ami::ping{});
    REQUIRE(!pong);
    CHECK(pong.error() == errc::timeout);
    co_await f.shutdown();
  }());
  CHECK(base.delta("costrix_ami_actions_timed_out_total") == 1);
  CHECK(base.delta("costrix_errors_total", error_kind("ami", "timeout")) == 1);
  CHECK(base.delta("costrix_ami_actions_in_flight") == 0);
}

TEST_CASE("metrics series: an AMI connection made again counts one reconnect", "[metrics][series][ami]") {
  metrics_enabled on;
  const metrics_baseline base;
  ami_test::fixture f{{.reconnect = {.initial_delay = 10ms, .max_delay = 100ms}}};
  f.run([&]() -> awaitable<void> {
    int connected = 0;
    ami_test::flag again(f.ctx);
    f.client.on_state([&](costrix::ami::connection_state s) {
      if (s == costrix::ami::connection_state::connected && ++connected == 2) again.set();
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    co_await f.server_call([&](auto done) { f.server.srv.disconnect_all(done); });  // Asterisk restarts
    co_await again.wait();
    CHECK(f.client.stats().reconnects == 1);
    co_await f.shutdown();
  }());
  CHECK(base.delta("costrix_ami_reconnects_total") == 1);
}

TEST_CASE("metrics series: AMI events a slow stream cannot hold count as drops and its depth as queued",
          "[metrics][series][ami]") {
  metrics_enabled on;
  const metrics_baseline base;
  const metrics::labels ami_label{{"protocol", "ami"}};
  constexpr int capacity = 10, events = 300;
  ami_test::fixture f;
  f.run([&]() -> awaitable<void> {
    {
      auto stream = f.client.stream({.capacity = capacity});
      auto up = co_await f.client.connect();
      REQUIRE(up);
      co_await f.server_call([&](auto done) { f.server.srv.start_flood({.rate = 0, .count = events}, done); });
      auto pong = co_await f.client.send(costrix::ami::ping{});  // answered after the whole flood was read
      REQUIRE(pong);
      const double received = static_cast<double>(f.client.stats().events);
      CHECK(received >= events);
      CHECK(static_cast<double>(stream.dropped()) == received - capacity);
      CHECK(base.delta("costrix_event_queue_drops_total", ami_label) == received - capacity);
      CHECK(base.delta("costrix_event_queue_depth", ami_label) == capacity);
      auto e = co_await stream.next();
      CHECK(e);
      CHECK(base.delta("costrix_event_queue_depth", ami_label) == capacity - 1);
    }
    // The stream is gone: what it held is no longer queued.
    CHECK(base.delta("costrix_event_queue_depth", ami_label) == 0);
    co_await f.shutdown();
  }());
}

// ---- ESL inbound client ----

namespace {

// The inbound ESL simulator on a thread of its own, and a client on `ctx`.
struct esl_client_rig {
  costrix::runtime rt{{.threads = 1}};
  sim::esl_server srv{rt, {.listen = "127.0.0.1:0"}};
  asio::io_context ctx{1};
  std::optional<costrix::esl::client> client;

  esl_client_rig() {
    REQUIRE(srv.start());
    rt.start();
    client.emplace(ctx.get_executor(),
                   costrix::esl::client_options{.port = srv.port(), .reconnect = {.initial_delay = 10ms}});
  }
  ~esl_client_rig() {
    client->close();
    costrix::test::run_at_most(ctx, 2s);
    client.reset();
    costrix::test::latch_flag stopped;
    srv.stop([&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }
  template <class T>
  T run(awaitable<T> a) {
    auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
    if (!costrix::test::run_until(ctx, f)) FAIL("the test stalled");
    return f.get();
  }
};

}  // namespace

TEST_CASE("metrics series: an ESL inbound connection made again counts one reconnect", "[metrics][series][esl]") {
  metrics_enabled on;
  const metrics_baseline base;
  esl_client_rig f;
  f.run([&]() -> awaitable<void> {
    int connected = 0;
    ami_test::flag again(f.ctx);
    f.client->on_state([&](costrix::esl::connection_state s) {
      if (s == costrix::esl::connection_state::connected && ++connected == 2) again.set();
    });
    auto up = co_await f.client->connect();
    REQUIRE(up);
    f.srv.disconnect_all();  // FreeSWITCH restarts
    co_await again.wait();
    CHECK(f.client->stats().reconnects == 1);
  }());
  CHECK(base.delta("costrix_esl_reconnects_total") == 1);
}

TEST_CASE("metrics series: ESL events a slow stream cannot hold count as drops and its depth as queued",
          "[metrics][series][esl]") {
  metrics_enabled on;
  const metrics_baseline base;
  const metrics::labels esl_queue{{"protocol", "esl"}};
  constexpr std::size_t capacity = 8, events = 200;
  esl_client_rig f;
  f.run([&]() -> awaitable<void> {
    {
      std::size_t seen = 0;
      ami_test::flag all(f.ctx);
      f.client->on_event("CHANNEL_CALLSTATE", [&](const costrix::esl::event&) {
        if (++seen == events) all.set();
      });
      auto slow = f.client->stream({.names = {"CHANNEL_CALLSTATE"}, .capacity = capacity});
      auto up = co_await f.client->connect();
      REQUIRE(up);
      f.srv.start_flood({.rate = 0, .count = events});
      co_await all.wait();  // every event reached the client while the stream was not read
      CHECK(slow.dropped() == events - capacity);
      CHECK(base.delta("costrix_event_queue_drops_total", esl_queue) == events - capacity);
      CHECK(base.delta("costrix_event_queue_depth", esl_queue) == capacity);
    }
    CHECK(base.delta("costrix_event_queue_depth", esl_queue) == 0);
  }());
}
