// Pipelined AMI round trips: `Action: Ping` answered by the in-process AMI
// simulator over loopback, with `window` actions in flight at a time, through
// costrix::ami::client and through a plain-Asio floor client (raw text out,
// answers counted by their closing empty line; no parsing, no correlation) in
// the same run against the same server.
//   ami_client_bench [--actions N] [--window W] [--json]
#include <costrix/ami/client.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/ami_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace ami = costrix::ami;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using costrix::awaitable;

namespace {

// costrix: `window` coroutines, each sending its share of Pings one after another.
double run_costrix(std::uint16_t port, int actions, int window) {
  asio::io_context ctx{1};
  ami::client c{ctx.get_executor(), {.port = port, .username = "admin", .secret = "wordpass", .events = "off"}};
  int done = 0, failed = 0;
  clock_type::time_point start, end;
  asio::co_spawn(ctx, [](ami::client& c, int actions, int window, int& done, int& failed, clock_type::time_point& start,
                         clock_type::time_point& end) -> awaitable<void> {
    auto up = co_await c.connect();
    if (!up) {
      std::fprintf(stderr, "ami_client_bench: %s\n", up.error().what().c_str());
      co_return;
    }
    start = clock_type::now();
    auto ex = co_await asio::this_coro::executor;
    for (int w = 0; w < window; ++w) {
      int share = actions / window + (w < actions % window ? 1 : 0);
      asio::co_spawn(ex, [](ami::client& c, int share, int actions, int& done, int& failed,
                            clock_type::time_point& end) -> awaitable<void> {
        for (int i = 0; i < share; ++i) {
          auto r = co_await c.send(ami::ping{});
          if (!r) ++failed;
          if (++done == actions) {
            end = clock_type::now();
            c.close();
          }
        }
      }(c, share, actions, done, failed, end), asio::detached);
    }
  }(c, actions, window, done, failed, start, end), asio::detached);
  ctx.run();
  if (failed) std::fprintf(stderr, "ami_client_bench: %d actions failed\n", failed);
  return done == actions ? actions / std::chrono::duration<double>(end - start).count() : 0;
}

// The floor: one socket, raw text, the window refilled as answers are counted.
awaitable<double> floor_client(std::uint16_t port, int actions, int window) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  s.set_option(tcp::no_delay(true));
  std::string login = "Action: Login\r\nUsername: admin\r\nSecret: wordpass\r\nEvents: off\r\nActionID: l\r\n\r\n";
  co_await asio::async_write(s, asio::buffer(login), asio::use_awaitable);
  std::string buf;
  buf.resize(64 * 1024);
  std::size_t have = 0;
  // The banner line and the login's answer.
  for (;;) {
    have += co_await s.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), asio::use_awaitable);
    if (std::string_view(buf.data(), have).find("\r\n\r\n") != std::string_view::npos) break;
  }
  auto start = clock_type::now();
  std::string out;
  int sent = 0, answered = 0;
  auto send = [&](int n) {
    out.clear();
    for (int i = 0; i < n && sent < actions; ++i, ++sent)
      out += "Action: Ping\r\nActionID: " + std::to_string(sent) + "\r\n\r\n";
  };
  send(window);
  co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
  // Counts "\r\n\r\n" across reads by a small state machine.
  int state = 0;
  while (answered < actions) {
    std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
    int now = 0;
    for (std::size_t i = 0; i < n; ++i) {
      char ch = buf[i];
      if ((state == 0 || state == 2) && ch == '\r') ++state;
      else if ((state == 1 || state == 3) && ch == '\n') {
        if (++state == 4) {
          ++now;
          state = 0;
        }
      } else state = ch == '\r' ? 1 : 0;
    }
    answered += now;
    if (now > 0 && sent < actions) {
      send(now);
      co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
    }
  }
  co_return actions / std::chrono::duration<double>(clock_type::now() - start).count();
}

double run_floor(std::uint16_t port, int actions, int window) {
  asio::io_context ctx{1};
  auto f = asio::co_spawn(ctx, floor_client(port, actions, window), asio::use_future);
  ctx.run();
  return f.get();
}

}  // namespace

int main(int argc, char** argv) {
  int actions = 200'000, window = 1000;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--actions" && i + 1 < argc) actions = std::atoi(argv[++i]);
    else if (flag == "--window" && i + 1 < argc) window = std::atoi(argv[++i]);
    else if (flag == "--json") json = true;
    else return std::fprintf(stderr, "usage: ami_client_bench [--actions N] [--window W] [--json]\n"), 2;
  }
  costrix::runtime rt{{.threads = 1}};
  costrix::sim::ami_server srv{rt, {.listen = "127.0.0.1:0"}};
  if (auto r = srv.start(); !r) return std::fprintf(stderr, "ami_client_bench: %s\n", r.error().what().c_str()), 1;
  rt.start();
  double floor = run_floor(srv.port(), actions, window);
  double ours = run_costrix(srv.port(), actions, window);
  if (json)
    std::printf("{\"bench\":\"ami_pipelined_ping\",\"actions\":%d,\"window\":%d,\"costrix_per_s\":%.0f,"
                "\"floor_per_s\":%.0f,\"ratio\":%.3f}\n",
                actions, window, ours, floor, floor > 0 ? ours / floor : 0);
  else
    std::printf("AMI pipelined Ping, %d actions, %d in flight: costrix %.0f/s, plain-Asio floor %.0f/s (%.2fx)\n",
                actions, window, ours, floor, floor > 0 ? ours / floor : 0);
  std::promise<void> stopped;
  srv.stop([&] { stopped.set_value(); });
  stopped.get_future().wait();
  rt.stop();
  rt.join();
}
