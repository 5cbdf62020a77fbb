// The demo's five-command script over N simulated calls, then GET /metrics.
#include <costrix/fastagi/server.hpp>
#include <costrix/metrics_server.hpp>
#include <costrix/sim/agi_caller.hpp>

#include "demo_script.hpp"
#include "support.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <charconv>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace sim = costrix::sim;

namespace {

using demo_script::demo;  // examples/fastagi_demo.cpp's script: five commands a call

http::response<http::string_body> fetch(std::uint16_t port, std::string target, http::verb verb = http::verb::get) {
  asio::io_context ctx;
  asio::ip::tcp::socket socket(ctx);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(verb == http::verb::head);
  http::read(socket, buffer, parser);
  return parser.release();
}

// The value of the sample line that starts with `series ` (exact name and labels).
std::optional<double> sample(const std::string& text, std::string_view series) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + at, end - at);
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      double v = 0;
      auto rest = line.substr(series.size() + 1);
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
      if (ec == std::errc{}) return v;
    }
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("metrics: after N demo calls GET /metrics counts N sessions and 5N commands", "[metrics][fastagi]") {
  auto endpoint = costrix::metrics::server::start("127.0.0.1:0");
  REQUIRE(endpoint);
  const std::uint16_t port = (*endpoint)->port();
  // The library's registry is process-wide: compare with what it held before.
  const std::string before = fetch(port, "/metrics").body();
  auto base = [&](std::string_view series) { return sample(before, series).value_or(0); };

  costrix::runtime rt{{.threads = 2}};
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:0"}};
  srv.route("demo", demo);
  REQUIRE(srv.start());
  rt.start();
  asio::io_context client;
  constexpr int calls = 40;
  int completed = 0;
  for (int i = 0; i < calls; ++i) {
    sim::agi_call call{.script = "demo", .callerid = "5550100"};
    auto r = costrix::test::run(client, sim::call_fastagi({asio::ip::make_address("127.0.0.1"), srv.port()}, call));
    if (r && r->exchanges.size() == 5) ++completed;
  }
  REQUIRE(completed == calls);

  auto res = fetch(port, "/metrics");
  CHECK(res.result() == http::status::ok);
  CHECK(res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = res.body();
  const std::string sessions = "costrix_sessions_total{protocol=\"fastagi\"}";
  const std::string active = "costrix_sessions_active{protocol=\"fastagi\"}";
  CHECK(sample(text, sessions).value_or(-1) - base(sessions) == calls);
  CHECK(sample(text, active) == 0);
  double commands = 0;
  for (std::string_view name : {"ANSWER", "GET VARIABLE", "STREAM FILE", "SET VARIABLE", "HANGUP"}) {
    std::string series = fmt::format("costrix_commands_total{{command=\"{}\"}}", name);
    double n = sample(text, series).value_or(-1) - base(series);
    CHECK(n == calls);
    commands += n;
  }
  CHECK(commands == 5 * calls);
  // "ANSWER\n", "GET VARIABLE CALLERID(num)\n", "STREAM FILE demo-thanks \"12\"\n",
  // "SET VARIABLE RESULT ok\n", "HANGUP\n": 93 bytes a call; each read holds
  // an environment or a "200 result=..." reply.
  CHECK(sample(text, "costrix_agi_bytes_out_total").value_or(-1) - base("costrix_agi_bytes_out_total") == 93 * calls);
  CHECK(sample(text, "costrix_agi_bytes_in_total").value_or(-1) - base("costrix_agi_bytes_in_total") > 5 * 11 * calls);
  const std::string count = "costrix_command_duration_seconds_count{command=\"STREAM FILE\"}";
  CHECK(sample(text, count).value_or(-1) - base(count) == calls);
  CHECK(text.find("# TYPE costrix_command_duration_seconds histogram\n") != std::string::npos);
  CHECK(text.find("costrix_commands_total{command=\"SPEECH RECOGNIZE\"} ") != std::string::npos);  // every modelled command

  // The snapshot API says the same, from this thread.
  auto snap = costrix::metrics::library().collect();
  CHECK(snap.value("costrix_sessions_active", {{"protocol", "fastagi"}}) == 0);

  CHECK(fetch(port, "/other").result() == http::status::not_found);
  CHECK(fetch(port, "/metrics", http::verb::post).result() == http::status::method_not_allowed);
  CHECK(fetch(port, "/metrics", http::verb::head).result() == http::status::ok);

  costrix::test::latch_flag stopped;
  srv.stop(0ms, [&] { stopped.set(); });
  stopped.wait();
  rt.stop();
  rt.join();
}

TEST_CASE("metrics: the endpoint refuses a bad address with an error value and serves nothing for none", "[metrics]") {
  CHECK_FALSE(costrix::metrics::server::start("not an address"));
  CHECK_FALSE(costrix::metrics::server::start("192.0.2.1:9464"));  // not ours to bind
  auto off = costrix::metrics::server::start("");
  REQUIRE(off);
  CHECK(*off == nullptr);
}
