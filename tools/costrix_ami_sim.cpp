// costrix-ami-sim: a simulated Asterisk AMI server (sim::ami_server) for
// testing AMI clients without a PBX. `costrix-ami-sim --help` lists the
// options; docs/simulator.md explains what it answers.
#include <costrix/io/runtime.hpp>
#include <costrix/version.hpp>
#include <costrix/sim/ami_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pthread.h>

namespace {

constexpr const char* usage = R"(usage: costrix-ami-sim [options]
  --listen ADDR:PORT          where to listen (default 127.0.0.1:5038; port 0 picks one)
  --user NAME:SECRET          a manager account (repeat for more; default admin:wordpass)
  --ami-version V             the banner's version (default 11.0.0)
  --tls-cert PEM --tls-key PEM  speak TLS with this certificate chain and key
  --failed-login-delay MS     wait before refusing a login (Asterisk: 1000; default 0)
  --cli 'COMMAND=OUTPUT'      what Action: Command answers for COMMAND ('\n' in OUTPUT: a new line)
  --originate-delay MS        OriginateResponse (or the answer, if not Async) after MS
  --originate-fail TEXT       originates whose Channel contains TEXT fail (Reason 0)
  --delay ACTION=MS           answer ACTION after MS (ACTION * = every action)
  --error ACTION=MESSAGE      answer ACTION with Response: Error and MESSAGE
  --never-answer ACTION       never answer ACTION
  --disconnect-on ACTION      close the connection of a client that sends ACTION
  --flood RATE                unsolicited Newchannel/VarSet/Hangup events per second (0: flat out)
  --flood-count N             stop the flood after N events (default: never)
  --async-agi N               start N AsyncAGI calls (channels Local/s@sim-0;2, -1;2 ...), one
                              every --async-agi-interval, the first after one interval
  --async-agi-interval MS     (default 1000)
  --agi-arg VALUE             an argument of those calls (repeat for more)
  --version                   print the version and exit
Runs until SIGINT or SIGTERM, then prints what it received.
)";

struct cli {
  costrix::sim::ami_server_options server;
  std::vector<std::pair<std::string, costrix::sim::action_rule>> rules;
  std::optional<double> flood_rate;
  std::size_t flood_count = 0;
  std::size_t agi_calls = 0;
  std::chrono::milliseconds agi_interval{1000};
  std::vector<std::string> agi_args;
};

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

bool parse(int argc, char** argv, cli& c) {
  auto& o = c.server;
  bool accounts_given = false;
  std::chrono::milliseconds originate_delay{0};
  std::string originate_fail;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    std::string name, value;
    auto ms = [](const std::string& text) { return std::chrono::milliseconds(std::atol(text.c_str())); };
    if (flag == "--listen") o.listen = v;
    else if (flag == "--user" && split(v, ':', name, value)) {
      if (!accounts_given) o.accounts.clear();
      accounts_given = true;
      o.accounts[name] = value;
    } else if (flag == "--ami-version") o.ami_version = v;
    else if (flag == "--tls-cert") o.tls_certificate_file = v;
    else if (flag == "--tls-key") o.tls_private_key_file = v;
    else if (flag == "--failed-login-delay") o.failed_login_delay = ms(v);
    else if (flag == "--cli" && split(v, '=', name, value)) o.cli[name] = unescape_newlines(value);
    else if (flag == "--originate-delay") originate_delay = ms(v);
    else if (flag == "--originate-fail") originate_fail = v;
    else if (flag == "--delay" && split(v, '=', name, value)) c.rules.push_back({name, {.delay = ms(value)}});
    else if (flag == "--error" && split(v, '=', name, value))
      c.rules.push_back({name, {.response = costrix::sim::ami_fields{{"Response", "Error"}, {"Message", value}}}});
    else if (flag == "--never-answer") c.rules.push_back({v, {.never_answer = true}});
    else if (flag == "--disconnect-on") c.rules.push_back({v, {.disconnect = true}});
    else if (flag == "--flood") c.flood_rate = std::atof(v.c_str());
    else if (flag == "--flood-count") c.flood_count = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--async-agi") c.agi_calls = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--async-agi-interval") c.agi_interval = ms(v);
    else if (flag == "--agi-arg") c.agi_args.push_back(v);
    else return false;
  }
  if (originate_delay.count() > 0 || !originate_fail.empty()) {
    o.originate = [originate_delay, originate_fail](const costrix::proto::ami::message& action) {
      costrix::sim::originate_outcome outcome{.delay = originate_delay};
      std::string_view channel = action.get("Channel").value_or("");
      if (!originate_fail.empty() && channel.find(originate_fail) != std::string_view::npos) {
        outcome.answered = false;
        outcome.reason = 0;
      }
      return outcome;
    };
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version")
    return std::printf("costrix-ami-sim (costrix) %s\n", costrix::version_string), 0;
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
  costrix::sim::ami_server srv{rt, c.server};
  for (auto& [action, rule] : c.rules) srv.rule(action, rule);
  if (auto started = srv.start(); !started) {
    std::fprintf(stderr, "costrix-ami-sim: %s\n", started.error().what().c_str());
    return 1;
  }
  rt.start();
  std::string host = c.server.listen.substr(0, c.server.listen.rfind(':'));
  std::printf("costrix-ami-sim: listening on %s:%u\n", host.c_str(), static_cast<unsigned>(srv.port()));
  std::fflush(stdout);

  if (c.flood_rate) srv.start_flood({.rate = *c.flood_rate, .count = c.flood_count});
  if (c.agi_calls > 0) {
    boost::asio::co_spawn(
        rt.executor(0),
        [&srv, &c, ex = rt.executor(0)]() -> costrix::awaitable<void> {
          boost::asio::steady_timer timer{ex};
          for (std::size_t n = 0; n < c.agi_calls; ++n) {
            timer.expires_after(c.agi_interval);
            auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            costrix::sim::agi_call call;
            call.channel = "Local/s@sim-" + std::to_string(n) + ";2";
            call.uniqueid = "1700000000." + std::to_string(n);
            call.args = c.agi_args;
            srv.start_async_agi(std::move(call));
          }
        },
        boost::asio::detached);
  }

  int received = 0;
  sigwait(&signals, &received);

  std::promise<void> stopped;
  srv.stop([&] { stopped.set_value(); });
  stopped.get_future().wait();
  rt.stop();
  rt.join();

  auto stats = srv.stats();
  std::printf("costrix-ami-sim: %llu connections, %llu logins, %llu failed logins\n",
              static_cast<unsigned long long>(stats.connections), static_cast<unsigned long long>(stats.logins),
              static_cast<unsigned long long>(stats.failed_logins));
  for (const auto& [name, n] : stats.actions) std::printf("  %-24s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
  return 0;
}
