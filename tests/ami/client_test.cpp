// ami::client against the AMI simulator over loopback. The client and the test
// coroutines run on one io_context driven by the test thread; the simulator
// runs on a runtime thread of its own. Waits are on events (a flag set by a
// callback), never on elapsed time.
#include "fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace sim = costrix::sim;
namespace ami = costrix::ami;
using costrix::awaitable;
using costrix::errc;

using namespace ami_test;


TEST_CASE("ami client: MD5 login (the default) sends Challenge then Login", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(r);
    CHECK(f.client.state() == ami::connection_state::connected);
    CHECK(f.server.srv.actions_received("Challenge") == 1);
    CHECK(f.server.srv.actions_received("Login") == 1);
    CHECK(f.server.srv.stats().logins == 1);
    CHECK(f.client.stats().logins == 1);
  }());
}

TEST_CASE("ami client: plain login sends no Challenge", "[ami][client]") {
  fixture f{{.login = ami::login_method::plain}};
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(r);
    CHECK(f.server.srv.actions_received("Challenge") == 0);
    CHECK(f.server.srv.stats().logins == 1);
  }());
}

TEST_CASE("ami client: a wrong secret is auth_failed with Asterisk's message", "[ami][client]") {
  auto method = GENERATE(ami::login_method::md5, ami::login_method::plain);
  fixture f{{.secret = "wrong", .login = method}};
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(!r);
    CHECK(r.error() == errc::auth_failed);
    CHECK(r.error().message == "Authentication failed");
    CHECK(f.client.state() == ami::connection_state::disconnected);
    CHECK(f.server.srv.stats().failed_logins == 1);
  }());
}

TEST_CASE("ami client: nobody listening is disconnected", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    co_await f.server_call([&](auto done) { f.server.srv.stop_listening(done); });
    auto r = co_await f.client.connect();
    REQUIRE(!r);
    CHECK(r.error() == errc::disconnected);
  }());
}

TEST_CASE("ami client: actions before connect() are refused at once", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.send(ami::ping{});
    REQUIRE(!r);
    CHECK(r.error() == errc::disconnected);
  }());
}

TEST_CASE("ami client: actions and their typed replies", "[ami][client]") {
  fixture f{{}, {.cli = {{"core show uptime", "System uptime: 1 minute\nLast reload: 1 minute"}}}};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);

    auto pong = co_await f.client.send(ami::ping{});
    REQUIRE(pong);
    CHECK(pong->status == ami::response_status::success);
    CHECK(pong->get("Ping") == "Pong");

    ami::setvar set{.variable = "GLOBALX", .value = "a b"};
    auto s = co_await f.client.send(std::move(set));
    REQUIRE(s);
    CHECK(s->text() == "Variable Set");

    ami::getvar get{.variable = "GLOBALX"};
    auto v = co_await f.client.send(std::move(get));
    REQUIRE(v);
    CHECK(*v == "a b");

    ami::command cmd{.line = "core show uptime"};
    auto out = co_await f.client.send(std::move(cmd));
    REQUIRE(out);
    CHECK(*out == std::vector<std::string>{"System uptime: 1 minute", "Last reload: 1 minute"});

    ami::command bad{.line = "core show nosuchthing"};
    auto no = co_await f.client.send(std::move(bad));
    REQUIRE(!no);
    CHECK(no.error() == errc::failed);
    CHECK(no.error().message.starts_with("No such command 'core show nosuchthing'"));

    ami::hangup h{.channel = "PJSIP/nobody-00000001"};
    auto gone = co_await f.client.send(std::move(h));
    REQUIRE(!gone);
    CHECK(gone.error() == errc::not_found);
    CHECK(gone.error().message == "No such channel");

    ami::db_put put{.family = "fam", .key = "k", .value = "v 1"};
    auto p = co_await f.client.send(std::move(put));
    REQUIRE(p);
    ami::db_get dbg{.family = "fam", .key = "k"};
    auto g = co_await f.client.send(std::move(dbg));
    REQUIRE(g);
    CHECK(*g == "v 1");
    ami::db_get missing{.family = "fam", .key = "missing"};
    auto m = co_await f.client.send(std::move(missing));
    REQUIRE(!m);
    CHECK(m.error() == errc::not_found);

    // A raw action: the response as it came, an Error included.
    ami::raw unknown{"NoSuchAction"};
    auto u = co_await f.client.send(std::move(unknown));
    REQUIRE(u);
    CHECK(u->status == ami::response_status::error);
    CHECK(u->text().starts_with("Invalid/unknown command: NoSuchAction."));
    ami::raw settings{"CoreSettings"};
    auto cs = co_await f.client.send(std::move(settings));
    REQUIRE(cs);
    CHECK(cs->get("AsteriskVersion") == "22.10.1");

    // A value that would inject a header is refused before anything is sent.
    ami::setvar inject{.variable = "X", .value = "1\r\nAction: Hangup"};
    auto i = co_await f.client.send(std::move(inject));
    REQUIRE(!i);
    CHECK(i.error() == errc::invalid_argument);
    CHECK(f.server.srv.actions_received("Hangup") == 1);
  }());
}

TEST_CASE("ami client: responses out of order reach their own actions", "[ami][client]") {
  fixture f{{}, {}};
  f.server.srv.rule("Ping", {.delay = 300ms});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<std::string> order;
    flag both(f.ctx);
    std::optional<costrix::result<ami::response>> ping, status;
    auto done = [&] {
      if (ping && status) both.set();
    };
    spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
          auto r = co_await f.client.send(ami::ping{});
          ping = std::move(r);
          order.push_back("Ping");
          done();
        });
    spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
          auto r = co_await f.client.send(ami::core_status{});
          status = std::move(r);
          order.push_back("CoreStatus");
          done();
        });
    co_await both.wait();
    REQUIRE(*ping);
    REQUIRE(*status);
    CHECK((*ping)->get("Ping") == "Pong");
    CHECK((*status)->get("CoreCurrentCalls").has_value());
    CHECK(!(*ping)->get("CoreCurrentCalls").has_value());
    // The server held the Ping back: CoreStatus's answer came first.
    CHECK(order == std::vector<std::string>{"CoreStatus", "Ping"});
  }());
}

TEST_CASE("ami client: two actions started in the same instant get their own replies", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    ami::setvar a{.variable = "A", .value = "1"};
    ami::setvar b{.variable = "B", .value = "2"};
    auto ra = co_await f.client.send(std::move(a));
    auto rb = co_await f.client.send(std::move(b));
    REQUIRE(ra);
    REQUIRE(rb);
    // Both written in one batch before either answer is read.
    ami::getvar get_a{.variable = "A"};
    ami::getvar get_b{.variable = "B"};
    auto fa = asio::co_spawn(f.ctx, f.client.send(std::move(get_a), asio::use_awaitable), asio::use_future);
    auto fb = asio::co_spawn(f.ctx, f.client.send(std::move(get_b), asio::use_awaitable), asio::use_future);
    while (fa.wait_for(0s) != std::future_status::ready || fb.wait_for(0s) != std::future_status::ready)
      co_await yield();
    auto va = fa.get();
    auto vb = fb.get();
    REQUIRE(va);
    REQUIRE(vb);
    CHECK(*va == "1");
    CHECK(*vb == "2");
  }());
}

TEST_CASE("ami client: 10000 actions in flight on one connection all complete correctly", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int n = 10'000;
    int done = 0, right = 0;
    std::size_t peak = 0;
    flag all(f.ctx);
    for (int i = 0; i < n; ++i) {
      spawn(f.ctx.get_executor(), [&, i]() -> awaitable<void> {
            // Getvar echoes the variable's name: each answer says which action it is for.
            ami::raw get{"Getvar"};
            get.add("Variable", "V" + std::to_string(i));
            auto r = co_await f.client.send(std::move(get));
            if (r && r->get("Variable") == "V" + std::to_string(i)) ++right;
            if (++done == n) all.set();
          });
    }
    // Every coroutine has reached its co_await before the first answer is read.
    co_await yield();
    peak = f.client.stats().in_flight;
    co_await all.wait();
    CHECK(right == n);
    CHECK(peak == n);
    CHECK(f.client.stats().in_flight == 0);
    CHECK(f.client.stats().orphans == 0);
    CHECK(f.server.srv.actions_received("Getvar") == n);
  }());
}

TEST_CASE("ami client: a response after the timeout goes to the orphan handler - not another action", "[ami][client]") {
  fixture f;
  f.server.srv.rule("Ping", {.delay = 100ms});
  f.server.srv.rule("CoreStatus", {.delay = 300ms});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<ami::owned_message> orphans;
    flag orphaned(f.ctx);
    f.client.on_orphan([&](const ami::message& m) {
      orphans.emplace_back(m);
      orphaned.set();
    });
    auto late = co_await f.client.send(ami::ping{}, 20ms);
    REQUIRE(!late);
    CHECK(late.error() == errc::timeout);
    // The next action takes the freed slot (a new generation) and is still
    // waiting when the Ping's answer comes: that answer is not its.
    auto s = co_await f.client.send(ami::core_status{});
    if (!s) FAIL_CHECK(s.error().what());
    REQUIRE(s);
    CHECK(!s->get("Ping").has_value());
    CHECK(s->get("CoreCurrentCalls").has_value());
    CHECK(orphaned.is_set());  // the Ping's answer (100 ms) came while CoreStatus (300 ms) waited
    co_await orphaned.wait();
    REQUIRE(orphans.size() == 1);
    CHECK(orphans[0].get("Ping") == "Pong");
    CHECK(f.client.stats().orphans == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami client: cancelling an action through its cancellation slot", "[ami][client]") {
  fixture f;
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    asio::cancellation_signal cancel;
    std::optional<costrix::result<ami::response>> got;
    flag done(f.ctx);
    f.client.send(ami::ping{}, asio::bind_cancellation_slot(cancel.slot(), [&](costrix::result<ami::response> r) {
      got = std::move(r);
      done.set();
    }));
    while (f.client.stats().in_flight == 0) co_await yield();
    cancel.emit(asio::cancellation_type::terminal);
    co_await done.wait();
    REQUIRE(got);
    REQUIRE(!*got);
    CHECK(got->error() == errc::cancelled);
    CHECK(f.client.stats().in_flight == 0);
    auto s = co_await f.client.send(ami::core_status{});
    CHECK(s);
  }());
}

TEST_CASE("ami client: event lists come whole - and a wrong ListItems is a protocol error", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    for (int i = 0; i < 3; ++i) {
      ami::originate o{.channel = "Local/s@idle", .application = "Wait", .data = "60"};
      auto call = co_await f.client.send(std::move(o));
      REQUIRE(call);
    }
    auto list = co_await f.client.send(ami::core_show_channels{});
    REQUIRE(list);
    CHECK(list->get("EventList") == "start");
    CHECK(list->events.size() == 3);
    for (const auto& e : list->events) CHECK(e.name() == "CoreShowChannel");
    REQUIRE(list->last);
    CHECK(list->last->name() == "CoreShowChannelsComplete");
    CHECK(list->last->get("ListItems") == "3");

    ami::status all_status;
    auto st = co_await f.client.send(std::move(all_status));
    REQUIRE(st);
    CHECK(st->events.size() == 3);

    // A list that claims more items than it had.
    f.server.srv.rule("QueueStatus", {.response = sim::ami_fields{{"Response", "Success"},
                                                                  {"EventList", "start"},
                                                                  {"Message", "Queue status will follow"}},
                                      .events = {{{"Event", "QueueParams"}, {"Queue", "sales"}},
                                                 {{"Event", "QueueStatusComplete"},
                                                  {"EventList", "Complete"},
                                                  {"ListItems", "5"}}}});
    ami::queue_status queues;
    auto q = co_await f.client.send(std::move(queues));
    REQUIRE(!q);
    CHECK(q.error() == errc::protocol);
    // A rule-made list with a right count.
    f.server.srv.rule("QueueSummary", {.events = {{{"Event", "QueueSummary"}, {"Queue", "a"}},
                                                  {{"Event", "QueueSummary"}, {"Queue", "b"}}},
                                       .list_complete = "QueueSummaryComplete"});
    ami::queue_summary summary;
    auto qs = co_await f.client.send(std::move(summary));
    REQUIRE(qs);
    REQUIRE(qs->events.size() == 2);
    CHECK(qs->events[1].get("Queue") == "b");
  }());
}

TEST_CASE("ami client: events by name - by type and all - list items and action events are not among them",
          "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    std::vector<std::string> all, newchannels;
    std::vector<ami::event::hangup> hangups;
    flag marker(f.ctx), hung_up(f.ctx);
    f.client.on_event("", [&](const ami::message& m) {
      all.emplace_back(m.name());
      if (m.name() == "UserEvent" && m.get("UserEvent") == "marker") marker.set();
      if (m.name() == "Hangup") hung_up.set();
    });
    f.client.on_event("newchannel", [&](const ami::message& m) { newchannels.emplace_back(m.get("Channel").value_or("")); });
    auto sub = f.client.on<ami::event::hangup>([&](const ami::event::hangup& h) { hangups.push_back(h); });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    f.server.srv.broadcast({{"Event", "Newchannel"}, {"Privilege", "call,all"}, {"Channel", "PJSIP/1-0001"}});
    f.server.srv.broadcast({{"Event", "Hangup"},
                            {"Privilege", "call,all"},
                            {"Channel", "PJSIP/1-0001"},
                            {"Uniqueid", "1.1"},
                            {"Cause", "16"},
                            {"Cause-txt", "Normal Clearing"}});
    // The simulator's broadcast runs on its own thread: await the events
    // before the next action, whose answer it does not order them against.
    co_await hung_up.wait();
    auto list = co_await f.client.send(ami::core_show_channels{});
    REQUIRE(list);
    ami::user_event ue{.event = "marker"};
    auto u = co_await f.client.send(std::move(ue));
    REQUIRE(u);
    co_await marker.wait();
    CHECK(all == std::vector<std::string>{"FullyBooted", "Newchannel", "Hangup", "UserEvent"});
    CHECK(newchannels == std::vector<std::string>{"PJSIP/1-0001"});
    REQUIRE(hangups.size() == 1);
    CHECK(hangups[0].cause == 16);
    CHECK(hangups[0].cause_txt == "Normal Clearing");
    CHECK(hangups[0].uniqueid == "1.1");

    f.client.unsubscribe(sub);
    marker.reset();
    f.server.srv.broadcast({{"Event", "Hangup"}, {"Privilege", "call,all"}, {"Channel", "PJSIP/2-0002"}});
    ami::user_event ue2{.event = "marker"};
    auto u2 = co_await f.client.send(std::move(ue2));
    REQUIRE(u2);
    co_await marker.wait();
    CHECK(hangups.size() == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami client: an event stream in order - typed decoding", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto stream = f.client.stream({.names = {"VarSet", "UserEvent"}});
    auto up = co_await f.client.connect();
    REQUIRE(up);
    for (int i = 0; i < 5; ++i) {
      ami::setvar s{.variable = "V" + std::to_string(i), .value = std::to_string(i)};
      auto r = co_await f.client.send(std::move(s));
      REQUIRE(r);
    }
    for (int i = 0; i < 5; ++i) {
      auto e = co_await stream.next();
      REQUIRE(e);
      auto v = ami::event::var_set::from(*e);
      CHECK(v.variable == "V" + std::to_string(i));
      CHECK(v.value == std::to_string(i));
      CHECK(v.channel == "none");
    }
    CHECK(stream.dropped() == 0);
    // A wait in progress ends when the stream is closed.
    flag ended(f.ctx);
    std::optional<costrix::result<ami::owned_message>> last;
    stream.next([&](costrix::result<ami::owned_message> r) {
      last = std::move(r);
      ended.set();
    });
    co_await yield();
    stream.close();
    co_await ended.wait();
    REQUIRE(last);
    REQUIRE(!*last);
    CHECK(last->error() == errc::cancelled);
  }());
}

TEST_CASE("ami client: an event flood into a slow consumer is bounded and never blocks the reader", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto stream = f.client.stream({.capacity = 100});
    auto up = co_await f.client.connect();
    REQUIRE(up);
    co_await f.server_call([&](auto done) { f.server.srv.start_flood({.rate = 0, .count = 20'000}, done); });
    // The consumer has read nothing; an action behind the flood is still answered,
    // so the reader kept reading, and by then it has read the whole flood.
    auto pong = co_await f.client.send(ami::ping{});
    INFO((pong ? std::string() : pong.error().what()));
    REQUIRE(pong);
    auto events = f.client.stats().events;
    CHECK(events >= 20'000);
    CHECK(stream.dropped() == events - 100);
    CHECK(f.client.state() == ami::connection_state::connected);
    // Drop-oldest: what is left is the newest 100, in order: the flood's
    // events 19900..19999 (event i is Newchannel, VarSet, Hangup by i % 3, on
    // channel PJSIP/flood-<i / 3 in 8 hex digits>).
    std::vector<ami::owned_message> kept;
    for (int i = 0; i < 100; ++i) {
      auto e = co_await stream.next();
      REQUIRE(e);
      kept.push_back(std::move(*e));
    }
    CHECK(stream.dropped() == events - 100);
    constexpr std::string_view names[] = {"Newchannel", "VarSet", "Hangup"};
    int in_place = 0;
    std::string first_misplaced;
    for (int k = 0; k < 100; ++k) {
      const int i = 20'000 - 100 + k;
      const auto name = kept[k].get("Event").value_or("<no Event>");
      const auto channel = kept[k].get("Channel").value_or("<no Channel>");
      const std::string want = fmt::format("{} PJSIP/flood-{:08x}", names[i % 3], i / 3);
      const std::string got = fmt::format("{} {}", name, channel);
      if (got == want) ++in_place;
      else if (first_misplaced.empty()) first_misplaced = fmt::format("kept[{}] is {}, not {}", k, got, want);
    }
    CHECK(first_misplaced == "");
    CHECK(in_place == 100);
    CHECK(f.server.srv.stats().active == 1);
  }());
}

TEST_CASE("ami client: on a disconnect 1000 waiting actions all complete disconnected", "[ami][client]") {
  fixture f{{.reconnect = {.enabled = false}}};
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    constexpr int n = 1000;
    int done = 0, disconnected = 0;
    flag all(f.ctx);
    for (int i = 0; i < n; ++i) {
      spawn(f.ctx.get_executor(), [&]() -> awaitable<void> {
            auto r = co_await f.client.send(ami::ping{});
            if (!r && r.error() == errc::disconnected) ++disconnected;
            if (++done == n) all.set();
          });
    }
    while (f.server.srv.actions_received("Ping") < n) co_await yield();
    CHECK(f.client.stats().in_flight == n);
    co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
    co_await all.wait();
    CHECK(disconnected == n);
    CHECK(f.client.stats().in_flight == 0);
    CHECK(f.client.state() == ami::connection_state::disconnected);
  }());
}

TEST_CASE("ami client: after a server restart it reconnects and logs in once - subscriptions not doubled",
          "[ami][client]") {
  fixture f{{.reconnect = {.initial_delay = 20ms, .max_delay = 100ms}}};
  f.run([&]() -> awaitable<void> {
    std::vector<ami::connection_state> states;
    int connected = 0;
    flag again(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      states.push_back(s);
      if (s == ami::connection_state::connected && ++connected == 2) again.set();
    });
    int user_events = 0;
    flag marker(f.ctx);
    flag once(f.ctx);
    f.client.on_event("UserEvent", [&](const ami::message& m) {
      if (m.get("UserEvent") == "marker") {
        marker.set();
      } else {
        ++user_events;
        once.set();
      }
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    // Asterisk restarts: connections close, and for a while nobody listens.
    co_await f.server_call([&](auto d) { f.server.srv.stop_listening(d); });
    co_await f.server_call([&](auto d) { f.server.srv.disconnect_all(d); });
    while (f.client.state() == ami::connection_state::connected) co_await yield();
    REQUIRE(f.server.srv.start_listening());
    co_await again.wait();
    CHECK(f.server.srv.stats().logins == 2);
    CHECK(f.client.stats().logins == 2);
    CHECK(f.client.stats().reconnects == 1);
    REQUIRE(states.size() >= 6);
    CHECK(states.front() == ami::connection_state::connecting);
    CHECK(states.back() == ami::connection_state::connected);

    // The broadcast is not ordered with the marker's action: await it, then let
    // the marker show that no second copy follows it.
    f.server.srv.broadcast({{"Event", "UserEvent"}, {"UserEvent", "once"}});
    co_await once.wait();
    ami::user_event ue{.event = "marker"};
    auto u = co_await f.client.send(std::move(ue));
    REQUIRE(u);
    co_await marker.wait();
    CHECK(user_events == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami client: async originate completes on its OriginateResponse", "[ami][client]") {
  sim::ami_server_options so;
  so.originate = [](const costrix::proto::ami::message& action) {
    auto ch = action.get("Channel").value_or("");
    if (ch == "PJSIP/busy") return sim::originate_outcome{.answered = false, .reason = 5, .delay = 50ms};
    return sim::originate_outcome{.answered = true, .reason = 4, .delay = 50ms};
  };
  fixture f{{}, std::move(so)};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    int originate_responses_seen = 0;
    f.client.on_event("OriginateResponse", [&](const ami::message&) { ++originate_responses_seen; });

    ami::originate call{.channel = "PJSIP/100", .context = "out", .exten = "200", .priority = "1",
                        .caller_id = "\"Dialer\" <5550100>"};
    auto r = co_await f.client.originate(std::move(call));
    REQUIRE(r);
    CHECK(r->answered);
    CHECK(r->reason == 4);
    CHECK(r->channel.starts_with("PJSIP/100-"));
    CHECK(r->uniqueid != "<unknown>");

    ami::originate busy{.channel = "PJSIP/busy", .application = "Wait", .data = "1"};
    auto b = co_await f.client.originate(std::move(busy));
    REQUIRE(b);
    CHECK(!b->answered);
    CHECK(b->reason == 5);
    CHECK(b->uniqueid == "<unknown>");

    ami::originate refused{.channel = "nochannel", .application = "Wait"};
    auto e = co_await f.client.originate(std::move(refused));
    REQUIRE(!e);
    CHECK(e.error() == errc::failed);
    CHECK(e.error().message == "Invalid channel");
    // Responses carrying our ActionIDs are the actions' own.
    CHECK(originate_responses_seen == 0);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami client: a coroutine on another io_context sends through the client", "[ami][client]") {
  fixture f;
  costrix::runtime other{{.threads = 1}};
  other.start();
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    ami::setvar set{.variable = "CROSS", .value = "yes"};
    auto s = co_await f.client.send(std::move(set));
    REQUIRE(s);
    auto client_thread = std::this_thread::get_id();
    auto remote = spawn_future(other.executor(0), [&]() -> awaitable<std::pair<bool, std::string>> {
          bool before = std::this_thread::get_id() != client_thread;
          ami::getvar get{.variable = "CROSS"};
          auto r = co_await f.client.send(std::move(get));
          // The result came back on this coroutine's own thread.
          bool after = other.executor(0).running_in_this_thread() && std::this_thread::get_id() != client_thread;
          std::string value = r ? *r : r.error().what();
          co_return std::pair{before && after, value};
        });
    while (remote.wait_for(0s) != std::future_status::ready) co_await yield();
    auto [ok, value] = remote.get();
    CHECK(ok);
    CHECK(value == "yes");
  }());
  other.stop();
  other.join();
}

TEST_CASE("ami client: logoff ends the connection for good", "[ami][client]") {
  fixture f;
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    flag closed(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      if (s == ami::connection_state::closed) closed.set();
    });
    auto bye = co_await f.client.logoff();
    REQUIRE(bye);
    CHECK(bye->status == ami::response_status::goodbye);
    co_await closed.wait();
    auto after = co_await f.client.send(ami::ping{});
    REQUIRE(!after);
    CHECK(after.error() == errc::disconnected);
    CHECK(f.server.srv.stats().logins == 1);
    co_await f.shutdown();
  }());
}

TEST_CASE("ami client: no answer to the login is a timeout", "[ami][client]") {
  fixture f{{.connect_timeout = 100ms}};
  f.server.srv.rule("Challenge", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto r = co_await f.client.connect();
    REQUIRE(!r);
    CHECK(r.error() == errc::timeout);
    CHECK(f.client.state() == ami::connection_state::disconnected);
  }());
}

TEST_CASE("ami client: actions over max_in_flight are refused", "[ami][client]") {
  fixture f{{.max_in_flight = 3}};
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    std::vector<costrix::result<ami::response>> held;
    for (int i = 0; i < 3; ++i)
      f.client.send(ami::ping{}, [&](costrix::result<ami::response> r) { held.push_back(std::move(r)); });
    auto over = co_await f.client.send(ami::ping{});
    REQUIRE(!over);
    CHECK(over.error() == errc::limit_exceeded);
    CHECK(f.client.stats().in_flight == 3);
    CHECK(held.empty());
    co_await f.shutdown();
    CHECK(held.size() == 3);
  }());
}

TEST_CASE("ami client: an action raced against a timer with awaitable operators is cancelled", "[ami][client]") {
  using namespace asio::experimental::awaitable_operators;
  fixture f;
  f.server.srv.rule("Ping", {.never_answer = true});
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    asio::steady_timer timer(f.ctx, 20ms);
    auto first = co_await (f.client.send(ami::ping{}, asio::use_awaitable) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    CHECK(first.index() == 1);
    // The cancelled Ping left the table: nothing is waiting.
    while (f.client.stats().in_flight != 0) co_await yield();
    auto s = co_await f.client.send(ami::core_status{});
    CHECK(s);
  }());
}

TEST_CASE("ami client: an unanswered keepalive Ping drops the connection and it is made again", "[ami][client]") {
  fixture f{{.keepalive = 200ms, .reconnect = {.initial_delay = 10ms, .max_delay = 50ms}}};
  f.run([&]() -> awaitable<void> {
    int connected = 0;
    bool lost = false;
    flag dropped(f.ctx), again(f.ctx);
    f.client.on_state([&](ami::connection_state s) {
      if (s == ami::connection_state::disconnected) {
        lost = true;
        dropped.set();
      }
      if (s == ami::connection_state::connected && ++connected == 2) again.set();
    });
    auto up = co_await f.client.connect();
    REQUIRE(up);
    // Pings are answered: the connection stays while several go by.
    while (f.server.srv.actions_received("Ping") < 2) co_await yield();
    CHECK(!lost);
    f.server.srv.rule("Ping", {.never_answer = true});
    co_await dropped.wait();
    f.server.srv.clear_rules();
    co_await again.wait();
    CHECK(f.server.srv.stats().logins == 2);
    co_await f.shutdown();
  }());
}
