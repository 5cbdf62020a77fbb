// esl::client against the inbound ESL simulator over loopback. The client and
// the test coroutines run on one io_context driven by the test thread; the
// simulator runs on a runtime thread of its own. Waits are on events (a flag
// set by a callback), never on elapsed time.
#include <costrix/esl/client.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/esl_server.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace sim = costrix::sim;
namespace esl = costrix::esl;
using costrix::awaitable;
using costrix::errc;
using costrix::result;

namespace {

class flag {
 public:
  explicit flag(asio::io_context& ctx) : timer_(ctx, std::chrono::steady_clock::time_point::max()) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

awaitable<void> yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

// Waits (yielding to the io_context, with short pauses) until `pred` holds; not a verdict.
template <class P>
awaitable<void> until(P pred) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!pred()) {
    t.expires_after(1ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

struct sim_server {
  costrix::runtime rt{{.threads = 1}};
  sim::esl_server srv;

  explicit sim_server(sim::esl_server_options o = {}) : srv(rt, free_port(std::move(o))) {
    REQUIRE(srv.start());
    rt.start();
  }
  ~sim_server() {
    costrix::test::latch_flag stopped;
    srv.stop([&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }
  static sim::esl_server_options free_port(sim::esl_server_options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
};

struct fixture {
  sim_server server;
  asio::io_context ctx{1};
  esl::client client;

  explicit fixture(esl::client_options o = {}, sim::esl_server_options so = {})
      : server(std::move(so)), client(ctx.get_executor(), options(std::move(o), server.srv.port())) {}
  ~fixture() {
    client.close();
    costrix::test::run_at_most(ctx, 2s);
  }

  static esl::client_options options(esl::client_options o, std::uint16_t port) {
    o.port = port;
    o.reconnect.initial_delay = 10ms;
    return o;
  }

  template <class T>
  T run(awaitable<T> a) {
    auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
    if (!costrix::test::run_until(ctx, f)) FAIL("the test stalled");
    return f.get();
  }

  awaitable<void> shutdown() {
    client.close();
    co_await yield();
  }

  template <class F>
  awaitable<void> server_call(F&& call) {
    auto sig = std::make_shared<flag>(ctx);
    call([this, sig] { asio::post(ctx, [sig] { sig->set(); }); });
    co_await sig->wait();
  }
};

}  // namespace

TEST_CASE("esl client: auth with the right password", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(r);
    CHECK(f.client.state() == esl::connection_state::connected);
    CHECK(f.client.stats().logins == 1);
    CHECK(f.server.srv.stats().auths == 1);
    CHECK(f.server.srv.commands_received("event") == 1);  // BACKGROUND_JOB, for bgapi
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a wrong password is auth_failed with FreeSWITCH's words - never the password", "[esl][client]") {
  fixture f{{.password = "s3cr3t-nope"}};
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(!r);
    CHECK(r.error() == errc::auth_failed);
    CHECK(r.error().message == "-ERR invalid");
    CHECK(r.error().what().find("s3cr3t") == std::string::npos);
    CHECK(f.client.state() == esl::connection_state::disconnected);
    CHECK(f.server.srv.stats().failed_auths == 1);
  }());
}

TEST_CASE("esl client: userauth", "[esl][client]") {
  fixture f{{.password = "pw", .user = "1000", .domain = "example.com"}, {.users = {{"1000@example.com", "pw"}}}};
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    CHECK(r);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: an ACL's rude rejection is refused", "[esl][client]") {
  fixture f{{}, {.deny_all = true}};
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(!r);
    CHECK(r.error() == errc::refused);
    CHECK(r.error().message.find("Access Denied") != std::string::npos);
  }());
}

TEST_CASE("esl client: api replies and -ERR bodies", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto st = co_await f.client.api("status");
    REQUIRE(st);
    CHECK(st->starts_with("UP 0 years"));
    auto bad = co_await f.client.api("no_such_command");
    REQUIRE(!bad);
    CHECK(bad.error() == errc::invalid_command);
    CHECK(bad.error().message == "-ERR no_such_command Command not found!");
    auto line = co_await f.client.api("bad\r\nline");
    REQUIRE(!line);
    CHECK(line.error() == errc::invalid_argument);
    auto after = co_await f.client.api("global_getvar hostname");
    CHECK(after.value() == "vm");
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: calls before connect() are refused at once", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.api("status");
    REQUIRE(!r);
    CHECK(r.error() == errc::disconnected);
  }());
}

TEST_CASE("esl client: 1000 api calls in flight get their own replies", "[esl][client]") {
  constexpr int n = 1000;
  sim::esl_server_options so;
  for (int i = 0; i < n; ++i) so.api.emplace("echo " + std::to_string(i), std::to_string(i));
  fixture f{{}, so};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<result<std::string>> got(n);
    int done = 0;
    flag all(f.ctx);
    for (int i = 0; i < n; ++i)
      f.client.api("echo " + std::to_string(i), [&, i](result<std::string> r) {
        got[i] = std::move(r);
        if (++done == n) all.set();
      });
    CHECK(f.client.stats().in_flight > 0);
    co_await all.wait();
    int right = 0;
    for (int i = 0; i < n; ++i)
      if (got[i] && *got[i] == std::to_string(i)) ++right;
    CHECK(right == n);
    CHECK(f.client.stats().in_flight == 0);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: bgapi completes on its own BACKGROUND_JOB - out of order", "[esl][client]") {
  fixture f{{}, {.delays = {{"status", 200ms}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<std::string> order;
    result<std::string> slow, fast, bad;
    flag all(f.ctx);
    int done = 0;
    auto count = [&] {
      if (++done == 3) all.set();
    };
    f.client.bgapi("status", [&](result<std::string> r) { slow = std::move(r); order.push_back("status"); count(); });
    f.client.bgapi("version", [&](result<std::string> r) { fast = std::move(r); order.push_back("version"); count(); });
    f.client.bgapi("no_such_command", [&](result<std::string> r) { bad = std::move(r); count(); });
    auto between = co_await f.client.api("global_getvar hostname");  // other traffic meanwhile
    CHECK(between.value() == "vm");
    co_await all.wait();
    REQUIRE(slow);
    CHECK(slow->starts_with("UP 0 years"));
    REQUIRE(fast);
    CHECK(fast->starts_with("FreeSWITCH Version"));
    REQUIRE(!bad);
    CHECK(bad.error() == errc::invalid_command);
    CHECK(f.client.stats().in_flight == 0);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: typed API commands over simulated channels", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    esl::api::originate o{.endpoint = "loopback/9001/default",
                          .variables = {{"origination_caller_id_number", "5550100"}, {"costrix_tag", "a b"}}};
    auto a = co_await f.client.api(o);
    REQUIRE(a);
    CHECK(a->size() == 36);
    esl::api::originate o2{.endpoint = "loopback/9002/default"};
    auto b = co_await f.client.bgapi(o2);
    REQUIRE(b);

    esl::api::uuid_exists ex{*a};
    auto exists = co_await f.client.api(ex);
    CHECK(exists.value() == true);
    esl::api::uuid_getvar tag{*a, "costrix_tag"};
    auto v = co_await f.client.api(tag);
    CHECK(v.value() == std::optional<std::string>("a b"));
    esl::api::uuid_setvar set{*a, "x", "one two"};
    auto s = co_await f.client.api(set);
    CHECK(s);
    esl::api::uuid_getvar getx{*a, "x"};
    auto x = co_await f.client.api(getx);
    CHECK(x.value() == std::optional<std::string>("one two"));
    esl::api::uuid_getvar unset{*a, "nothing_here"};
    auto none = co_await f.client.api(unset);
    CHECK(none.value() == std::nullopt);

    auto rows = co_await f.client.api(esl::api::show_channels{});
    REQUIRE(rows);
    REQUIRE(rows->size() == 2);
    CHECK(((*rows)[0].uuid == *a || (*rows)[1].uuid == *a));
    CHECK((*rows)[0].name.starts_with("loopback/900"));

    esl::api::uuid_bridge br{*a, *b};
    auto bridged = co_await f.client.api(br);
    CHECK(bridged);
    auto calls = co_await f.client.api(esl::api::show_calls{});
    REQUIRE(calls);
    REQUIRE(calls->size() == 1);
    CHECK((*calls)[0].columns.count("b_uuid") == 1);

    esl::api::uuid_transfer tr{.uuid = *a, .destination = "9100", .dialplan = "XML", .context = "default"};
    auto t = co_await f.client.api(tr);
    CHECK(t);
    esl::api::uuid_record rec{.uuid = *a, .path = "/tmp/x.wav"};
    auto r1 = co_await f.client.api(rec);
    CHECK(r1);
    esl::api::uuid_broadcast bc{.uuid = *a, .path = "/tmp/x.wav"};
    auto r2 = co_await f.client.api(bc);
    CHECK(r2);
    esl::api::uuid_break brk{.uuid = *a};
    auto r3 = co_await f.client.api(brk);
    CHECK(r3);
    esl::api::uuid_send_dtmf dt{*a, "123#"};
    auto r4 = co_await f.client.api(dt);
    CHECK(r4);
    esl::api::uuid_hold hold{.uuid = *a};
    auto r5 = co_await f.client.api(hold);
    CHECK(r5);
    auto r6 = co_await f.client.api(esl::api::reloadxml{});
    CHECK(r6);
    auto ver = co_await f.client.api(esl::api::version{});
    CHECK(ver.value().starts_with("FreeSWITCH Version"));
    auto upt = co_await f.client.api(esl::api::uptime{});
    CHECK(upt);

    esl::api::uuid_kill kill{*a};
    auto k = co_await f.client.api(kill);
    CHECK(k);
    auto gone = co_await f.client.api(ex);
    CHECK(gone.value() == false);
    auto again = co_await f.client.api(kill);
    REQUIRE(!again);
    CHECK(again.error() == errc::not_found);
    CHECK(again.error().message == "-ERR No such channel!");

    esl::api::hupall everyone;
    auto all = co_await f.client.api(everyone);
    CHECK(all);
    esl::api::originate nowhere{.endpoint = "loopback/nonexistent_ext/default"};
    auto failed = co_await f.client.api(nowhere);
    REQUIRE(!failed);
    CHECK(failed.error() == errc::failed);
    CHECK(failed.error().message == "-ERR NO_ROUTE_DESTINATION");
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: events by name and subclass and all", "[esl][client]") {
  auto format = GENERATE(costrix::proto::esl::event_format::plain, costrix::proto::esl::event_format::json);
  fixture f{{.format = format}};
  f.run([&]() -> awaitable<void> {
    std::vector<std::string> answered;
    std::vector<std::string> custom_bodies;
    flag got_custom(f.ctx), got_answer(f.ctx);
    f.client.on_event("CHANNEL_ANSWER", [&](const esl::event& e) {
      answered.emplace_back(e.get("Unique-ID").value_or(""));
      got_answer.set();
    });
    f.client.on_event("costrix::test", [&](const esl::event& e) {
      custom_bodies.emplace_back(e.body());
      CHECK(e.get("X-Costrix") == std::optional<std::string_view>("hello world"));
      got_custom.set();
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    CHECK(f.server.srv.commands_received("event") == 1);  // one subscription for all of them
    auto all = f.client.stream({.names = {"ALL"}});
    co_await yield();
    esl::api::originate o{.endpoint = "loopback/9001/default"};
    auto uuid = co_await f.client.api(o);
    REQUIRE(uuid);
    co_await got_answer.wait();
    CHECK(answered == std::vector<std::string>{*uuid});
    auto first = co_await all.next();
    REQUIRE(first);
    CHECK(first->name() == "CHANNEL_CREATE");

    f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::other"}});
    f.server.srv.emit({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "costrix::test"}, {"X-Costrix", "hello world"}},
                      "body text\n");
    co_await got_custom.wait();
    CHECK(custom_bodies == std::vector<std::string>{"body text\n"});
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: an event flood into a slow stream drops the oldest (counted) and never blocks the reader",
          "[esl][client]") {
  constexpr std::size_t n = 3000, cap = 16;
  fixture f;
  f.run([&]() -> awaitable<void> {
    std::size_t seen = 0;
    flag all(f.ctx);
    f.client.on_event("CHANNEL_CALLSTATE", [&](const esl::event&) {
      if (++seen == n) all.set();
    });
    auto slow = f.client.stream({.names = {"CHANNEL_CALLSTATE"}, .capacity = cap});
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.start_flood({.rate = 0, .count = n});
    co_await all.wait();  // every event reached the callback while the stream was not read
    CHECK(slow.dropped() == n - cap);
    auto oldest_kept = co_await slow.next();
    REQUIRE(oldest_kept);
    CHECK(oldest_kept->get("Flood-Sequence") == std::optional<std::string_view>(std::to_string(n - cap)));
    auto st = co_await f.client.api("global_getvar hostname");
    CHECK(st.value() == "vm");
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a lost connection fails every waiting call at once", "[esl][client]") {
  fixture f{{.reconnect = {.enabled = false}}, {.delays = {{"status", 60s}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int n = 5;
    std::vector<result<std::string>> got(n);
    std::vector<std::uint64_t> in_flight_seen;
    int done = 0;
    flag all(f.ctx);
    for (int i = 0; i < n; ++i)
      f.client.api("status", [&, i](result<std::string> r) {
        got[i] = std::move(r);
        in_flight_seen.push_back(f.client.stats().in_flight);
        if (++done == n) all.set();
      });
    f.client.bgapi("version", [&](result<std::string>) {});  // a job waiting too
    co_await until([&] { return f.server.srv.commands_received("api") >= 1; });
    co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
    co_await all.wait();
    for (const auto& r : got) {
      REQUIRE(!r);
      CHECK(r.error() == errc::disconnected);
    }
    CHECK(in_flight_seen == std::vector<std::uint64_t>(n, 0));  // all failed before the first was delivered
    CHECK(f.client.state() == esl::connection_state::disconnected);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a server restart is repaired: reconnect then re-auth then one re-subscription", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    std::vector<esl::connection_state> states;
    flag reconnected(f.ctx);
    int answers = 0;
    flag answered(f.ctx);
    f.client.on_event("CHANNEL_ANSWER", [&](const esl::event&) {
      ++answers;
      answered.set();
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto filtered = co_await f.client.filter("Event-Name", "CHANNEL_ANSWER");
    REQUIRE(filtered);
    auto jobs = co_await f.client.filter("Event-Name", "BACKGROUND_JOB");
    REQUIRE(jobs);
    f.client.on_state([&](esl::connection_state s) {
      states.push_back(s);
      if (s == esl::connection_state::connected) reconnected.set();
    });
    co_await f.server_call([&](auto d) { f.server.srv.stop_listening(d); });
    co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
    REQUIRE(f.server.srv.start_listening());
    co_await reconnected.wait();
    CHECK(f.server.srv.stats().auths == 2);
    CHECK(f.server.srv.commands_received("event") == 2);   // one per connection
    CHECK(f.server.srv.commands_received("filter") == 4);  // two per connection
    CHECK(f.client.stats().reconnects == 1);
    CHECK(states.back() == esl::connection_state::connected);
    esl::api::originate o{.endpoint = "loopback/9001/default"};
    auto job = co_await f.client.bgapi(o);  // BACKGROUND_JOB passes the filters
    REQUIRE(job);
    co_await answered.wait();
    CHECK(answers == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a timed-out api's late reply is dropped - not given to the next call", "[esl][client]") {
  fixture f{{}, {.delays = {{"status", 300ms}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto late = co_await f.client.api(esl::api::status{}, 20ms);
    REQUIRE(!late);
    CHECK(late.error() == errc::timeout);
    auto next = co_await f.client.api("version");
    REQUIRE(next);
    CHECK(next->starts_with("FreeSWITCH Version"));
    CHECK(f.client.stats().orphans == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a cancelled api completes at once - its reply is dropped", "[esl][client]") {
  fixture f{{}, {.delays = {{"status", 100ms}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    asio::cancellation_signal cancel;
    result<std::string> got;
    flag done(f.ctx);
    f.client.api("status", asio::bind_cancellation_slot(cancel.slot(), [&](result<std::string> r) {
                   got = std::move(r);
                   done.set();
                 }));
    cancel.emit(asio::cancellation_type::terminal);
    co_await done.wait();
    REQUIRE(!got);
    CHECK(got.error() == errc::cancelled);
    auto next = co_await f.client.api("global_getvar hostname");
    CHECK(next.value() == "vm");
    CHECK(f.client.stats().orphans == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: a call from another executor completes there", "[esl][client]") {
  fixture f;
  costrix::runtime other{{.threads = 1}};
  other.start();
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto ex = other.executor(0);
    auto fut = asio::co_spawn(
        ex,
        [](esl::client& c, asio::io_context::executor_type ex) -> awaitable<std::pair<bool, std::string>> {
          auto r = co_await c.api("global_getvar hostname");
          co_return std::pair{ex.running_in_this_thread(), r ? *r : std::string{}};
        }(f.client, ex),
        asio::use_future);
    co_await until([&] { return fut.wait_for(0s) == std::future_status::ready; });
    auto [there, value] = fut.get();
    CHECK(there);
    CHECK(value == "vm");
    co_await f.shutdown();
  }());
  other.stop();
  other.join();
}

TEST_CASE("esl client: exit says +OK bye and closes for good", "[esl][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    flag closed(f.ctx);
    f.client.on_state([&](esl::connection_state s) {
      if (s == esl::connection_state::closed) closed.set();
    });
    auto bye = co_await f.client.exit();
    CHECK(bye.value() == "+OK bye");
    co_await closed.wait();
    CHECK(f.client.stats().reconnects == 0);
  }());
}

TEST_CASE("esl client: originate redials on USER_BUSY and NO_ANSWER then gets the leg", "[esl][client][originate]") {
  int tries = 0;  // the simulator's executor only
  sim::esl_server_options so;
  so.originate_outcome = [&tries](std::string_view endpoint, std::string_view) -> std::string {
    if (endpoint.find("5551234") == std::string_view::npos) return "";
    ++tries;
    if (tries <= 2) return "USER_BUSY";
    if (tries == 3) return "NO_ANSWER";
    return "";
  };
  fixture f{{}, so};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<esl::cause> seen;
    std::optional<esl::leg> call;
    for (int attempt = 0; attempt < 10 && !call; ++attempt) {
      esl::api::originate o{.endpoint = "sofia/gateway/gw/5551234", .destination = "&park()"};
      auto r = co_await f.client.originate(std::move(o));
      if (r) {
        call = *r;
        break;
      }
      CHECK(r.error() == errc::failed);
      seen.push_back(esl::cause_of(r.error()));
    }
    CHECK(seen == std::vector<esl::cause>{esl::cause::user_busy, esl::cause::user_busy, esl::cause::no_answer});
    REQUIRE(call);
    CHECK(!call->uuid().empty());

    auto set = co_await call->set_variable("costrix_try", "4");
    CHECK(set);
    auto got = co_await call->get_variable("costrix_try");
    CHECK(got.value() == std::optional<std::string>("4"));
    auto alive = co_await call->exists();
    CHECK(alive.value() == true);

    esl::api::originate agent_call{.endpoint = "user/1000"};
    auto agent = co_await f.client.originate(std::move(agent_call));
    REQUIRE(agent);
    auto bridged = co_await call->bridge(*agent);
    CHECK(bridged);
    auto rows = co_await f.client.api(esl::api::show_calls{});
    REQUIRE(rows);
    REQUIRE(rows->size() == 1);  // the two legs as one bridged call
    auto played = co_await call->broadcast("ivr/ivr-welcome.wav");
    CHECK(played);
    auto recording = co_await call->record(true, "/tmp/costrix-call.wav");
    CHECK(recording);
    auto moved = co_await agent->transfer("9000");
    CHECK(moved);
    auto agent_gone = co_await agent->hangup(esl::cause::normal_clearing);
    CHECK(agent_gone);

    auto hung = co_await call->hangup(esl::cause::normal_clearing);
    CHECK(hung);
    auto gone = co_await call->exists();
    CHECK(gone.value() == false);
    auto again = co_await call->hangup();
    REQUIRE(!again);
    CHECK(again.error() == errc::not_found);
    co_await f.shutdown();
  }());
}

TEST_CASE("esl client: originate failures carry the cause - api and bgapi alike and unknown causes too",
          "[esl][client][originate]") {
  sim::esl_server_options so;
  so.originate_outcome = [](std::string_view endpoint, std::string_view) -> std::string {
    if (endpoint.find("busy") != std::string_view::npos) return "USER_BUSY";
    if (endpoint.find("newer") != std::string_view::npos) return "SOMETHING_NEWER";
    return "";
  };
  fixture f{{}, so};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    esl::api::originate busy{.endpoint = "user/busy"};
    auto by_api = co_await f.client.api(busy);
    REQUIRE(!by_api);
    CHECK(by_api.error().message == "-ERR USER_BUSY");
    CHECK(esl::cause_of(by_api.error()) == esl::cause::user_busy);
    auto by_bgapi = co_await f.client.bgapi(busy);
    REQUIRE(!by_bgapi);
    CHECK(esl::cause_of(by_bgapi.error()) == esl::cause::user_busy);
    esl::api::originate newer{.endpoint = "user/newer"};
    auto odd = co_await f.client.originate(std::move(newer));
    REQUIRE(!odd);
    CHECK(odd.error() == errc::failed);
    CHECK(esl::cause_of(odd.error()) == esl::cause::unknown);
    CHECK(odd.error().message == "-ERR SOMETHING_NEWER");
    esl::api::originate nowhere{.endpoint = "loopback/nonexistent/default"};
    auto none = co_await f.client.originate(std::move(nowhere));
    REQUIRE(!none);
    CHECK(esl::cause_of(none.error()) == esl::cause::no_route_destination);
    co_await f.shutdown();
  }());
}
