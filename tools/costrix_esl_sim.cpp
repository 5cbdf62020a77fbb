// costrix-esl-sim: a simulated FreeSWITCH inbound Event Socket (sim::esl_server)
// for testing ESL clients without a switch. `costrix-esl-sim --help` lists the
// options; docs/simulator.md explains what it answers.
#include <costrix/io/runtime.hpp>
#include <costrix/version.hpp>
#include <costrix/sim/esl_server.hpp>

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pthread.h>

namespace {

constexpr const char* usage = R"(usage: costrix-esl-sim [options]
  --listen ADDR:PORT        where to listen (default 127.0.0.1:8021; port 0 picks one)
  --password PW             the `auth` password (default ClueCon)
  --user USER@DOMAIN:PW     a directory user for `userauth` (repeat for more)
  --api 'COMMAND=BODY'      what `api COMMAND` answers ('\n' in BODY: a new line)
  --delay COMMAND=MS        run the API command COMMAND after MS (* = every command)
  --originate-fail TEXT     originates whose endpoint contains TEXT fail (default nonexistent)
  --originate-cause TEXT=CAUSE[,N]
                            the first N originates (default: every one) whose endpoint contains
                            TEXT fail with -ERR CAUSE (USER_BUSY, NO_ANSWER...); repeat for more
  --deny-all                refuse every connection (text/rude-rejection)
  --flood RATE              unsolicited CHANNEL_CALLSTATE events per second (0: flat out)
  --flood-count N           stop the flood after N events (default: never)
  --version                 print the version and exit
Runs until SIGINT or SIGTERM, then prints what it received.
)";

bool split(std::string_view text, char sep, std::string& name, std::string& value) {
  auto at = text.find(sep);
  if (at == std::string_view::npos || at == 0) return false;
  name = std::string(text.substr(0, at));
  value = std::string(text.substr(at + 1));
  return true;
}

std::string unescape_newlines(std::string s) {
  for (std::size_t at = 0; (at = s.find("\\n", at)) != std::string::npos;) s.replace(at, 2, "\n");
  return s;
}

// --originate-cause: endpoint text -> the cause and how many more originates fail with it.
struct failing {
  std::string cause;
  std::uint64_t left = UINT64_MAX;
};

struct cli {
  costrix::sim::esl_server_options server;
  std::shared_ptr<std::map<std::string, failing, std::less<>>> causes;
  std::optional<double> flood_rate;
  std::size_t flood_count = 0;
};

bool parse(int argc, char** argv, cli& c) {
  auto& o = c.server;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--deny-all") {
      o.deny_all = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    std::string name, value;
    if (flag == "--listen") o.listen = v;
    else if (flag == "--password") o.password = v;
    else if (flag == "--user" && split(v, ':', name, value)) o.users[name] = value;
    else if (flag == "--api" && split(v, '=', name, value)) o.api[name] = unescape_newlines(value);
    else if (flag == "--delay" && split(v, '=', name, value))
      o.delays[name] = std::chrono::milliseconds(std::atol(value.c_str()));
    else if (flag == "--originate-fail") o.originate_fail = v;
    else if (flag == "--originate-cause" && split(v, '=', name, value)) {
      if (!c.causes) c.causes = std::make_shared<std::map<std::string, failing, std::less<>>>();
      failing f{.cause = value};
      if (auto comma = value.find(','); comma != std::string::npos) {
        f.cause = value.substr(0, comma);
        f.left = std::strtoull(value.c_str() + comma + 1, nullptr, 10);
      }
      (*c.causes)[name] = f;
      // The simulator calls it on its one executor: the counts need no lock.
      o.originate_outcome = [causes = c.causes](std::string_view endpoint, std::string_view) -> std::string {
        for (auto& [text, f] : *causes) {
          if (endpoint.find(text) == std::string_view::npos || f.left == 0) continue;
          if (f.left != UINT64_MAX) --f.left;
          return f.cause;
        }
        return "";
      };
    }
    else if (flag == "--flood") c.flood_rate = std::atof(v.c_str());
    else if (flag == "--flood-count") c.flood_count = std::strtoull(v.c_str(), nullptr, 10);
    else return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version")
    return std::printf("costrix-esl-sim (costrix) %s\n", costrix::version_string), 0;
  cli c;
  if (!parse(argc, argv, c)) {
    std::fputs(usage, stderr);
    return 2;
  }
  // The runtime's thread inherits this mask: the signals wait for sigwait() below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  costrix::runtime rt{{.threads = 1}};
  costrix::sim::esl_server srv{rt, c.server};
  if (auto started = srv.start(); !started) {
    std::fprintf(stderr, "costrix-esl-sim: %s\n", started.error().what().c_str());
    return 1;
  }
  rt.start();
  std::string host = c.server.listen.substr(0, c.server.listen.rfind(':'));
  std::printf("costrix-esl-sim: listening on %s:%u\n", host.c_str(), static_cast<unsigned>(srv.port()));
  std::fflush(stdout);
  if (c.flood_rate) srv.start_flood({.rate = *c.flood_rate, .count = c.flood_count});

  int received = 0;
  sigwait(&signals, &received);

  std::promise<void> stopped;
  srv.stop([&] { stopped.set_value(); });
  stopped.get_future().wait();
  rt.stop();
  rt.join();

  auto stats = srv.stats();
  std::printf("costrix-esl-sim: %llu connections, %llu auths, %llu failed auths\n",
              static_cast<unsigned long long>(stats.connections), static_cast<unsigned long long>(stats.auths),
              static_cast<unsigned long long>(stats.failed_auths));
  for (const auto& [name, n] : stats.commands)
    std::printf("  %-24s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
  for (const auto& [name, n] : stats.apis)
    std::printf("  api %-20s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
  return 0;
}
