// Fault injection against the AMI and ESL clients: a scripted server over
// loopback TCP closes mid-line, mid-message and mid-body, resets the
// connection, trickles its reply, or sends more than the limits allow. The
// verdict is the error the waiting call completes with.
#include <costrix/ami/actions.hpp>
#include <costrix/ami/client.hpp>
#include <costrix/esl/client.hpp>

#include "support.hpp"
#include "fault/tcp_peer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <map>
#include <string>

using namespace std::chrono_literals;
using costrix::awaitable;
using costrix::errc;
using costrix::test::chomp;
using costrix::test::peer_io;
using costrix::test::tcp_peer;
namespace asio = boost::asio;
namespace ami = costrix::ami;
namespace esl = costrix::esl;

namespace {

// What the scripted server does once the client waits for an answer.
enum class fault { close_mid_line, close_mid_message, close_mid_body, reset, trickle, over_limit };

template <class T>
T run(asio::io_context& ctx, awaitable<T> a) {
  auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
  if (!costrix::test::run_until(ctx, f)) FAIL("the test stalled");
  return f.get();
}

// One AMI message's headers, read up to its empty line.
std::map<std::string, std::string> read_ami(peer_io& io) {
  std::map<std::string, std::string> m;
  for (;;) {
    std::string line = chomp(io.read_line());
    if (line.empty() || io.eof()) return m;
    auto colon = line.find(": ");
    if (colon != std::string::npos) m[line.substr(0, colon)] = line.substr(colon + 2);
  }
}

// Plays Asterisk: banner, accepts a plain login, then answers the next action with `f`.
void ami_script(tcp_peer& self, fault f, int fd, peer_io& io) {
  io.send("Asterisk Call Manager/11.0.0\r\n");
  auto login = read_ami(io);
  io.send("Response: Success\r\nActionID: " + login["ActionID"] + "\r\nMessage: Authentication accepted\r\n\r\n");
  auto ping = read_ami(io);
  const std::string whole = "Response: Success\r\nActionID: " + ping["ActionID"] + "\r\nPing: Pong\r\n\r\n";
  switch (f) {
    case fault::close_mid_line: io.send(whole.substr(0, 12)); return self.close(fd);
    case fault::close_mid_message:
    case fault::close_mid_body: io.send(whole.substr(0, whole.find("Ping:"))); return self.close(fd);
    case fault::reset: return self.reset(fd);
    case fault::trickle: costrix::test::trickle(fd, whole, 10ms); break;
    case fault::over_limit: io.send("Response: Success\r\nX: " + std::string(8192, 'x') + "\r\n"); break;
  }
  io.read_line();  // until the client closes
}

costrix::result<ami::response> ami_ping_against(fault f, ami::client_options o = {}) {
  tcp_peer peer([&](int fd, peer_io& io) { ami_script(peer, f, fd, io); });
  asio::io_context ctx{1};
  o.port = peer.port();
  o.username = "admin";
  o.secret = "wordpass";
  o.login = ami::login_method::plain;
  o.reconnect.enabled = false;
  ami::client client(ctx.get_executor(), o);
  auto r = run(ctx, [&]() -> awaitable<costrix::result<ami::response>> {
    auto up = co_await client.connect();
    if (!up) co_return costrix::fail(errc::failed, "login: " + up.error().what());
    co_return co_await client.send(ami::ping{});
  }());
  client.close();
  costrix::test::run_at_most(ctx, 1s);
  return r;
}

// Plays FreeSWITCH's inbound socket: auth/request, +OK to `auth` and to any
// other command, then answers the first `api` with `f`.
void esl_script(tcp_peer& self, fault f, int fd, peer_io& io) {
  io.send("Content-Type: auth/request\n\n");
  for (;;) {
    std::string command = io.read_line();
    if (io.eof()) return;
    while (!io.read_line().empty() && !io.eof()) {
    }
    if (command.rfind("api ", 0) == 0) break;
    io.send("Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
  }
  const std::string body = "UP 0 years, 0 days\n";
  const std::string whole = "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body;
  switch (f) {
    case fault::close_mid_line: io.send("Content-Type: api/resp"); return self.close(fd);
    case fault::close_mid_message: io.send("Content-Type: api/response\n"); return self.close(fd);
    case fault::close_mid_body: io.send(whole.substr(0, whole.size() - 5)); return self.close(fd);
    case fault::reset: return self.reset(fd);
    case fault::trickle: costrix::test::trickle(fd, whole, 10ms); break;
    case fault::over_limit: io.send("Content-Type: api/response\nContent-Length: 999999999\n\n"); break;
  }
  io.read_line();  // until the client closes
}

costrix::result<std::string> esl_api_against(fault f, esl::client_options o = {}) {
  tcp_peer peer([&](int fd, peer_io& io) { esl_script(peer, f, fd, io); });
  asio::io_context ctx{1};
  o.port = peer.port();
  o.reconnect.enabled = false;
  esl::client client(ctx.get_executor(), o);
  auto r = run(ctx, [&]() -> awaitable<costrix::result<std::string>> {
    auto up = co_await client.connect();
    if (!up) co_return costrix::fail(errc::failed, "auth: " + up.error().what());
    co_return co_await client.api("uptime");
  }());
  client.close();
  costrix::test::run_at_most(ctx, 1s);
  return r;
}

}  // namespace

TEST_CASE("fault: AMI closes mid-line - mid-message - or resets - the action fails disconnected", "[fault][ami]") {
  auto f = GENERATE(fault::close_mid_line, fault::close_mid_message, fault::reset);
  auto r = ami_ping_against(f);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::disconnected);
}

TEST_CASE("fault: AMI trickling its answer a byte every 10 ms hits the 50 ms action timeout", "[fault][ami]") {
  auto r = ami_ping_against(fault::trickle, {.action_timeout = 50ms});
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::timeout);
}

TEST_CASE("fault: an AMI line over max_line_bytes fails the action with limit_exceeded", "[fault][ami]") {
  ami::client_options o;
  o.limits.max_line_bytes = 1024;
  auto r = ami_ping_against(fault::over_limit, o);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::limit_exceeded);
}

TEST_CASE("fault: ESL closes mid-line - mid-headers - mid-body - or resets - the api fails disconnected", "[fault][esl]") {
  auto f = GENERATE(fault::close_mid_line, fault::close_mid_message, fault::close_mid_body, fault::reset);
  auto r = esl_api_against(f);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::disconnected);
}

TEST_CASE("fault: ESL trickling its reply a byte every 10 ms hits the 50 ms command timeout", "[fault][esl]") {
  auto r = esl_api_against(fault::trickle, {.command_timeout = 50ms});
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::timeout);
}

TEST_CASE("fault: an ESL Content-Length over the limit fails the api with limit_exceeded", "[fault][esl]") {
  auto r = esl_api_against(fault::over_limit);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::limit_exceeded);
}

namespace {

// A peer that logs the client in, then never reads again until `release` is set.
struct deaf_peer {
  std::promise<void> release;
  std::shared_future<void> released{release.get_future().share()};
};

}  // namespace

TEST_CASE("fault: an AMI server that never reads - actions over max_unsent_bytes fail with limit_exceeded",
          "[fault][ami]") {
  deaf_peer deaf;
  tcp_peer peer([&](int, peer_io& io) {
    io.send("Asterisk Call Manager/11.0.0\r\n");
    auto login = read_ami(io);
    io.send("Response: Success\r\nActionID: " + login["ActionID"] + "\r\nMessage: Authentication accepted\r\n\r\n");
    deaf.released.wait();
  });
  asio::io_context ctx{1};
  ami::client client(ctx.get_executor(), {.port = peer.port(), .username = "admin", .secret = "wordpass",
                                          .login = ami::login_method::plain, .action_timeout = 0ms,
                                          .reconnect = {.enabled = false}, .max_unsent_bytes = 64 * 1024});
  const std::string filler(16 * 1024, 'f');
  int limited = 0, sent = 0;
  run(ctx, [&]() -> awaitable<void> {
    auto up = co_await client.connect();
    REQUIRE(up);
    // The socket buffers take some megabytes first; then the client holds 64 KiB at most.
    for (; sent < 8000 && limited == 0; ++sent) {
      ami::raw action{"UserEvent"};
      action.add("UserEvent", "filler").add("Data", filler);
      client.send(std::move(action), [&](costrix::result<ami::response> r) {
        if (!r && r.error() == errc::limit_exceeded) ++limited;
      });
      co_await asio::post(ctx, asio::use_awaitable);
    }
  }());
  CHECK(limited == 1);
  CHECK(sent < 8000);
  client.close();
  costrix::test::run_at_most(ctx, 1s);
  deaf.release.set_value();
}

TEST_CASE("fault: an ESL server that never reads - calls over max_unsent_bytes fail with limit_exceeded",
          "[fault][esl]") {
  deaf_peer deaf;
  tcp_peer peer([&](int, peer_io& io) {
    io.send("Content-Type: auth/request\n\n");
    for (int command = 0; command < 2; ++command) {  // auth, then the event subscription
      while (!io.read_line().empty() && !io.eof()) {
      }
      io.send("Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
    }
    deaf.released.wait();
  });
  asio::io_context ctx{1};
  esl::client client(ctx.get_executor(), {.port = peer.port(), .command_timeout = 0ms,
                                          .reconnect = {.enabled = false}, .max_unsent_bytes = 64 * 1024});
  const std::string filler(16 * 1024, 'f');
  int limited = 0, sent = 0;
  run(ctx, [&]() -> awaitable<void> {
    auto up = co_await client.connect();
    REQUIRE(up);
    for (; sent < 8000 && limited == 0; ++sent) {
      client.api("echo " + filler, [&](costrix::result<std::string> r) {
        if (!r && r.error() == errc::limit_exceeded) ++limited;
      });
      co_await asio::post(ctx, asio::use_awaitable);
    }
  }());
  CHECK(limited == 1);
  CHECK(sent < 8000);
  client.close();
  costrix::test::run_at_most(ctx, 1s);
  deaf.release.set_value();
}
