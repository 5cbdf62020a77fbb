// The FastAGI server on a runtime, driven over loopback by the Asterisk simulator.
#include <costrix/fastagi/server.hpp>
#include <costrix/log.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "scripted_peer.hpp"
#include "demo_script.hpp"
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
namespace asio = boost::asio;
namespace sim = costrix::sim;

namespace {

using demo_script::demo;  // examples/fastagi_demo.cpp's script: five commands a call

// A server on a 2-thread runtime; stopped and drained when the fixture ends.
struct served {
  costrix::runtime rt{{.threads = 2}};
  costrix::fastagi::server srv;
  asio::io_context client;  // the simulated Asterisk runs on the test thread

  explicit served(costrix::fastagi::server_options o = {}) : srv(rt, with_free_port(std::move(o))) {}
  ~served() {
    costrix::test::latch_flag stopped;
    srv.stop(0ms, [&] { stopped.set(); });
    stopped.wait();
    rt.stop();
    rt.join();
  }
  void start() {
    REQUIRE(srv.start());
    rt.start();
  }
  asio::ip::tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), srv.port()}; }
  costrix::result<sim::call_report> call(sim::agi_call c) {
    return costrix::test::run(client, sim::call_fastagi(endpoint(), std::move(c)));
  }
  static costrix::fastagi::server_options with_free_port(costrix::fastagi::server_options o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
};

std::vector<std::string> commands(const sim::call_report& r) {
  std::vector<std::string> out;
  for (const auto& ex : r.exchanges) out.push_back(ex.command);
  return out;
}


}  // namespace

TEST_CASE("fastagi: the demo script runs against the simulator", "[fastagi]") {
  served s;
  s.srv.route("demo", demo);
  s.start();
  auto r = s.call({.script = "demo", .callerid = "5550100"});
  REQUIRE(r);
  CHECK(commands(*r) == std::vector<std::string>{"ANSWER", "GET VARIABLE CALLERID(num)",
                                                 "STREAM FILE demo-thanks \"12\"", "SET VARIABLE RESULT ok",
                                                 "HANGUP"});
  CHECK(r->variables.at("RESULT") == "ok");
  CHECK(r->hung_up);
}

TEST_CASE("fastagi: routes by exact name - regex in order - default - and changes at run time", "[fastagi]") {
  served s;
  auto tag = [](std::string name) {
    return [name](costrix::agi::session& sess) -> awaitable<void> {
      co_await sess.set_variable("ROUTE", name);
      co_await sess.set_variable("SCRIPT", sess.script());
      co_await sess.set_variable("LANG", std::string(sess.param("lang").value_or("-")));
    };
  };
  s.srv.route("ivr/main", tag("exact"));
  s.srv.route(std::regex("^sales/"), tag("sales"));
  s.srv.route(std::regex("^sales/east"), tag("never: an earlier route matches first"));
  s.start();

  auto route_of = [&](std::string script) {
    auto r = s.call({.script = script});
    REQUIRE(r);
    auto it = r->variables.find("ROUTE");
    return it == r->variables.end() ? std::string("(closed)") : it->second;
  };
  CHECK(route_of("ivr/main?lang=fr") == "exact");
  CHECK(route_of("sales/east") == "sales");
  CHECK(route_of("support") == "(closed)");  // no route, no default: closed without a command

  s.srv.default_route(tag("default"));
  CHECK(route_of("support") == "default");
  s.srv.clear_routes();
  s.srv.route("support", tag("support"));
  CHECK(route_of("support") == "support");
  CHECK(route_of("ivr/main") == "(closed)");

  auto r = s.call({.script = "support?lang=de&lang=en"});
  REQUIRE(r);
  CHECK(r->variables.at("SCRIPT") == "support");
  CHECK(r->variables.at("LANG") == "de");
}

TEST_CASE("fastagi: a caller hanging up mid-command fails that command and the rest", "[fastagi]") {
  served s;
  std::promise<std::vector<errc>> seen;
  s.srv.route("hangup", [&](costrix::agi::session& sess) -> awaitable<void> {
    std::vector<errc> errors;
    auto note = [&](const auto& r) { errors.push_back(r ? errc{} : static_cast<errc>(r.error().code.value())); };
    note(co_await sess.answer());
    note(co_await sess.stream_file("demo-instruct"));  // the caller hangs up here
    note(co_await sess.noop());                         // HANGUP arrives ahead of this reply
    note(co_await sess.get_variable("FOO"));            // not sent
    seen.set_value(errors);
  });
  s.start();
  auto r = s.call({.script = "hangup", .hangup_during = 1});
  REQUIRE(r);
  CHECK(commands(*r) == std::vector<std::string>{"ANSWER", "STREAM FILE demo-instruct \"\"", "NOOP"});
  CHECK(seen.get_future().get() == std::vector<errc>{errc{}, errc::failed, errc::hangup, errc::hangup});
}

TEST_CASE("fastagi: an exception in a handler is logged and ends only that call", "[fastagi]") {
  costrix::test::captured_log log;
  served s;
  s.srv.route("boom", [](costrix::agi::session& sess) -> awaitable<void> {
    co_await sess.answer();
    throw std::runtime_error("handler bug");
  });
  s.srv.route("demo", demo);
  s.start();
  auto r = s.call({.script = "boom", .channel = "PJSIP/boom-1"});
  REQUIRE(r);
  CHECK(commands(*r) == std::vector<std::string>{"ANSWER"});
  CHECK(log.contains("fastagi: the script threw: handler bug route=boom channel=PJSIP/boom-1 uniqueid=1700000000.1 peer=127.0.0.1:"));
  CHECK(log.contains("handler bug"));
  auto next = s.call({.script = "demo"});
  REQUIRE(next);
  CHECK(next->exchanges.size() == 5);
}

TEST_CASE("fastagi: garbage - a cut-off environment and a 1 MiB line end only that connection", "[fastagi]") {
  served s;
  s.srv.route("demo", demo);
  s.start();
  auto send_raw = [&](std::string bytes) {
    return costrix::test::run(s.client, [&]() -> awaitable<std::size_t> {
      asio::ip::tcp::socket sock{co_await asio::this_coro::executor};
      co_await sock.async_connect(s.endpoint(), asio::use_awaitable);
      co_await asio::async_write(sock, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
      boost::system::error_code ignored;
      sock.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      char buf[256];
      auto [ec, n] = co_await asio::async_read(sock, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      co_return n;  // bytes the server wrote before closing: it must send no command
    }());
  };
  CHECK(send_raw("\x16\x03\x01 garbage \xff\xfe\n\n") == 0);
  CHECK(send_raw("agi_network: yes\nagi_network_scr") == 0);
  CHECK(send_raw(std::string(1 << 20, 'x') + "\n\n") == 0);
  auto r = s.call({.script = "demo"});
  REQUIRE(r);
  CHECK(r->exchanges.size() == 5);
}

TEST_CASE("fastagi: an environment that arrives in pieces starts the script once whole", "[fastagi]") {
  served s;
  s.srv.route("pieces", [](costrix::agi::session& session) -> awaitable<void> {
    co_await session.set_variable("SEEN", std::string(session.env().channel()) + "|" +
                                              std::string(session.args().empty() ? "" : session.args()[0]));
  });
  s.start();
  auto reply = costrix::test::run(s.client, [&]() -> awaitable<std::string> {
    asio::ip::tcp::socket sock{co_await asio::this_coro::executor};
    co_await sock.async_connect(s.endpoint(), asio::use_awaitable);
    // Accepted with nothing to read: the call waits for its environment.
    while (s.srv.accepted() == 0) std::this_thread::yield();
    co_await asio::async_write(sock, asio::buffer(std::string_view("agi_network: yes\nagi_network_script: pie")),
                               asio::use_awaitable);
    co_await asio::async_write(sock, asio::buffer(std::string_view("ces\nagi_channel: SIP/1-0001\nagi_arg_1: a")),
                               asio::use_awaitable);
    co_await asio::async_write(sock, asio::buffer(std::string_view("b\n\n")), asio::use_awaitable);
    std::string line;
    co_await asio::async_read_until(sock, asio::dynamic_buffer(line), '\n', asio::as_tuple(asio::use_awaitable));
    co_return line;
  }());
  CHECK(reply == "SET VARIABLE SEEN SIP/1-0001|ab\n");
}

TEST_CASE("fastagi: a connection that sends no environment is closed after environment_timeout", "[fastagi]") {
  costrix::test::captured_log log;
  costrix::set_log_level(costrix::log_level::info);
  struct restore {
    ~restore() { costrix::set_log_level(costrix::log_level::warning); }
  } restore_level;
  served s{{.session = {.environment_timeout = 50ms}}};
  s.srv.route("demo", demo);
  s.start();
  auto received = costrix::test::run(s.client, [&]() -> awaitable<std::size_t> {
    asio::ip::tcp::socket silent{co_await asio::this_coro::executor};
    co_await silent.async_connect(s.endpoint(), asio::use_awaitable);
    char buf[64];
    auto [ec, n] = co_await asio::async_read(silent, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    CHECK(ec == asio::error::eof);
    co_return n;
  }());
  CHECK(received == 0);
  CHECK(log.contains("no AGI environment: timeout"));
  // The core's timer serves later calls too, and a call that is served is not cut.
  auto r = s.call({.script = "demo"});
  REQUIRE(r);
  CHECK(r->exchanges.size() == 5);
}

TEST_CASE("fastagi: sessions beyond max_sessions are refused and logged", "[fastagi]") {
  costrix::test::captured_log log;
  served s{{.max_sessions = 1}};
  std::promise<void> entered;
  std::atomic<asio::steady_timer*> hold{nullptr};
  s.srv.route("hold", [&](costrix::agi::session& sess) -> awaitable<void> {
    asio::steady_timer until_released{co_await asio::this_coro::executor, asio::steady_timer::time_point::max()};
    hold = &until_released;
    entered.set_value();
    co_await until_released.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await sess.noop();
  });
  s.start();
  auto first = std::async(std::launch::async, [&] {
    asio::io_context ctx;
    return costrix::test::run(ctx, sim::call_fastagi(s.endpoint(), {.script = "hold"}));
  });
  entered.get_future().wait();
  auto refused = s.call({.script = "hold"});
  // Closed at once: the simulator sees end of stream or a reset, never a command.
  CHECK((!refused || refused->exchanges.empty()));
  CHECK(s.srv.refused() == 1);
  CHECK(log.contains("refused"));
  asio::post(hold.load()->get_executor(), [&] { hold.load()->cancel(); });
  auto r = first.get();
  REQUIRE(r);
  CHECK(commands(*r) == std::vector<std::string>{"NOOP"});
}

TEST_CASE("fastagi: 1000 concurrent calls on the runtime", "[fastagi][load]") {
  served s;
  s.srv.route("demo", demo);
  s.start();
  constexpr std::size_t calls = 1000;
  std::size_t ok = 0, commands_seen = 0;
  costrix::test::run(s.client, [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::size_t done = 0;
    asio::steady_timer all_done{ex, asio::steady_timer::time_point::max()};
    for (std::size_t i = 0; i < calls; ++i) {
      // co_spawn keeps the lambda (and its captures) alive while the coroutine runs.
      asio::co_spawn(ex, [&, i]() -> awaitable<void> {
        // A named agi_call: GCC 12 destroys an aggregate temporary with string
        // members twice when it is built inside a co_await expression.
        sim::agi_call call{.script = "demo", .callerid = std::to_string(i)};
        auto r = co_await sim::call_fastagi(s.endpoint(), std::move(call));
        if (r && r->variables.count("RESULT")) ++ok;
        if (r) commands_seen += r->exchanges.size();
        if (++done == calls) all_done.cancel();
      }, asio::detached);
    }
    co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  }());
  CHECK(ok == calls);
  CHECK(commands_seen == calls * 5);
  CHECK(s.srv.accepted() == calls);
  CHECK(s.srv.refused() == 0);
}

TEST_CASE("fastagi: stop lets calls in flight finish - then closes the rest after the grace", "[fastagi]") {
  served s;
  std::promise<costrix::result<void>> quick_result;
  std::promise<costrix::result<void>> stuck_result;
  std::promise<void> both_in;
  std::atomic<int> in{0};
  auto hold = [&](std::promise<costrix::result<void>>& out) {
    return [&](costrix::agi::session& sess) -> awaitable<void> {
      if (++in == 2) both_in.set_value();
      out.set_value(co_await sess.noop());
    };
  };
  s.srv.route("quick", hold(quick_result));
  s.srv.route("stuck", hold(stuck_result));
  s.start();

  // Two calls by hand: each sends its environment and reads the NOOP.
  auto connect = [&](std::string script) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(s.srv.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    costrix::test::peer_io io(fd);
    io.send("agi_network: yes\nagi_network_script: " + script + "\n\n");
    return std::pair{fd, io};
  };
  auto [quick_fd, quick] = connect("quick");
  auto [stuck_fd, stuck] = connect("stuck");
  CHECK(quick.read_line() == "NOOP");
  CHECK(stuck.read_line() == "NOOP");
  both_in.get_future().wait();

  costrix::test::latch_flag stopped;
  s.srv.stop(100ms, [&] { stopped.set(); });
  quick.send("200 result=0\n");  // answered within the grace: finishes normally
  CHECK(quick_result.get_future().get());
  auto r = stuck_result.get_future().get();  // never answered: closed when the grace ends
  REQUIRE(!r);
  CHECK((r.error() == errc::cancelled || r.error() == errc::disconnected));
  stopped.wait();
  CHECK(s.srv.active() == 0);
  ::close(quick_fd);
  ::close(stuck_fd);
}
