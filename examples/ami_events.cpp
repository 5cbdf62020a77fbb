// Watches calls over AMI: logs in, prints Newchannel and Hangup events as they
// come, originates one call and waits for its OriginateResponse, lists the
// channels. Try it against the simulator:
//   costrix-ami-sim --flood 2 &
//   ami_events [--host 127.0.0.1] [--port 5038] [--user admin] [--secret wordpass] [--count 10] [--metrics ADDR]
// It stops after --count call events (or on SIGINT).
#include <costrix/ami/client.hpp>
#include <costrix/metrics_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ami = costrix::ami;
using costrix::awaitable;

awaitable<bool> watch(ami::client& c, int count) {
  auto up = co_await c.connect();
  if (!up) {
    std::fprintf(stderr, "ami_events: %s\n", up.error().what().c_str());
    co_return false;
  }
  auto hangups = c.on<ami::event::hangup>([](const ami::event::hangup& h) {
    std::printf("hangup      %s (%s)\n", h.channel.c_str(), h.cause_txt.c_str());
  });

  ami::originate call{.channel = "Local/100@demo", .application = "Wait", .data = "10"};
  auto placed = co_await c.originate(std::move(call));
  if (placed) std::printf("originate   %s reason %d\n", placed->channel.c_str(), placed->reason);
  else std::printf("originate   failed: %s\n", placed.error().what().c_str());

  auto channels = co_await c.send(ami::core_show_channels{});
  if (channels) std::printf("channels    %zu up\n", channels->events.size());

  // A stream for the coroutine: Newchannel events, at most 1000 waiting.
  auto stream = c.stream({.names = {"Newchannel"}, .capacity = 1000});
  for (int seen = 0; seen < count; ++seen) {
    auto e = co_await stream.next();
    if (!e) break;
    auto ch = ami::event::newchannel::from(*e);
    std::printf("newchannel  %s %s\n", ch.channel.c_str(), ch.uniqueid.c_str());
  }
  c.unsubscribe(hangups);
  std::printf("dropped     %llu\n", static_cast<unsigned long long>(stream.dropped()));
  auto bye = co_await c.logoff();
  if (!bye) std::fprintf(stderr, "ami_events: logoff: %s\n", bye.error().what().c_str());
  co_return true;
}

int main(int argc, char** argv) {
  ami::client_options options{.username = "admin", .secret = "wordpass"};
  int count = 10;
  std::string metrics_at;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--host") options.host = argv[i + 1];
    else if (flag == "--port") options.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (flag == "--user") options.username = argv[i + 1];
    else if (flag == "--secret") options.secret = argv[i + 1];
    else if (flag == "--count") count = std::atoi(argv[i + 1]);
    else if (flag == "--metrics") metrics_at = argv[i + 1];
    else return std::fprintf(stderr, "usage: ami_events [--host H] [--port P] [--user U] [--secret S] [--count N] [--metrics ADDR:PORT]\n"), 2;
  }
  auto metrics = costrix::metrics::server::start(metrics_at);  // empty (the default): off
  if (!metrics) return std::fprintf(stderr, "ami_events: %s\n", metrics.error().what().c_str()), 1;
  boost::asio::io_context ctx{1};
  ami::client c{ctx.get_executor(), options};
  boost::asio::signal_set signals{ctx, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code&, int) { c.close(); ctx.stop(); });
  bool ok = false;
  boost::asio::co_spawn(ctx, [](ami::client& c, int count, boost::asio::signal_set& s, bool& ok) -> awaitable<void> {
    ok = co_await watch(c, count);
    s.cancel();
  }(c, count, signals, ok), boost::asio::detached);
  ctx.run();
  return ok ? 0 : 1;
}
