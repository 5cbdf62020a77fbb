// The demo FastAGI server: serves the route "demo" with
// ANSWER, GET VARIABLE CALLERID(num), STREAM FILE demo-thanks "12", SET VARIABLE RESULT ok, HANGUP,
// and "park" (WAIT FOR DIGIT -1: an idle call, for memory measurements).
//   fastagi_demo [--listen 127.0.0.1:4573] [--threads N] [--max-sessions N] [--drain SECONDS]
//                [--listen-fd N]... [--metrics ADDR:PORT] [--version]
// --metrics serves Prometheus metrics at http://ADDR/metrics (off by default).
// SIGINT/SIGTERM stop it after the calls in flight have ended (--drain, 5 s by
// default); SIGUSR2 hands the listening sockets over to a new fastagi_demo
// (docs/operations.md, Restarts). Listening sockets from systemd socket
// activation (or --listen-fd) are used instead of binding --listen.
#include <costrix/fastagi/server.hpp>
#include <costrix/io/graceful.hpp>
#include <costrix/io/listener.hpp>
#include <costrix/metrics_server.hpp>
#include <costrix/version.hpp>

#include "demo_script.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>
#include <unistd.h>

using namespace std::chrono_literals;
using costrix::awaitable;

using demo_script::demo;
using demo_script::park;

int main(int argc, char** argv) {
  costrix::fastagi::server_options options;
  costrix::runtime_options rt_options;
  std::string metrics_at;
  costrix::graceful_options graceful_options{.drain = 5s};
  if (argc == 2 && std::string_view(argv[1]) == "--version")
    return std::printf("fastagi_demo (costrix) %s\n", costrix::version_string), 0;
  // Sockets from systemd or from a hand-over (LISTEN_FDS) take the place of
  // --listen-fd: a successor runs its predecessor's command line, whose
  // --listen-fd numbers name nothing it inherited (the sockets are 3, 4, ...
  // by LISTEN_FDS), so taking both would adopt a socket twice or a stray fd.
  auto inherited = costrix::io::inherited_listeners();
  std::vector<int> given_fds;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--drain") graceful_options.drain = std::chrono::milliseconds(static_cast<long>(std::atof(argv[i + 1]) * 1000));
    else if (flag == "--listen-fd") given_fds.push_back(std::atoi(argv[i + 1]));
    else if (flag == "--listen") options.listen = argv[i + 1];
    else if (flag == "--threads") rt_options.threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (flag == "--max-sessions") options.max_sessions = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--metrics") metrics_at = argv[i + 1];
    else return std::fprintf(stderr, "usage: fastagi_demo [--listen ADDR:PORT] [--threads N] [--max-sessions N] [--drain SECONDS] [--listen-fd N]... [--metrics ADDR:PORT] [--version]\n"), 2;
  }
  options.listen_fds = inherited.empty() ? std::move(given_fds) : std::move(inherited);
  costrix::runtime rt{rt_options};
  costrix::fastagi::server srv{rt, options};
  srv.route("demo", demo);
  srv.route("park", park);
  if (auto r = srv.start(); !r) return std::fprintf(stderr, "fastagi_demo: %s\n", r.error().what().c_str()), 1;
  auto metrics = costrix::metrics::server::start(metrics_at);  // empty (the default): off
  if (!metrics) return std::fprintf(stderr, "fastagi_demo: %s\n", metrics.error().what().c_str()), 1;
  std::printf("fastagi_demo[%d]: serving agi://127.0.0.1:%u/demo on %u threads\n", static_cast<int>(::getpid()),
              srv.port(), rt.size());
  if (*metrics)  // the port it bound (--metrics ADDR:0 picks a free one)
    std::printf("fastagi_demo[%d]: metrics at http://%s:%u/metrics\n", static_cast<int>(::getpid()),
                metrics_at.substr(0, metrics_at.rfind(':')).c_str(), (*metrics)->port());
  std::fflush(stdout);

  costrix::graceful graceful{rt, graceful_options};
  graceful.add(srv).start();
  rt.run();
  std::printf("fastagi_demo[%d]: stopped after %llu calls\n", static_cast<int>(::getpid()),
              static_cast<unsigned long long>(srv.accepted()));
}
