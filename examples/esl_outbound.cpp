// An IVR on FreeSWITCH's outbound Event Socket. In the dialplan:
//   <action application="socket" data="127.0.0.1:8084 async full"/>
// It answers, asks for a 1-4 digit account number (3 tries), reads it back, and hangs up.
//   esl_outbound [--listen 127.0.0.1:8084] [--threads N] [--drain SECONDS] [--listen-fd N]... [--metrics ADDR:PORT] [--version]
// SIGINT/SIGTERM stop it after the calls in flight have ended (--drain, 5 s by
// default); SIGUSR2 hands the listening sockets over to a new esl_outbound.
#include <costrix/esl/server.hpp>
#include <costrix/io/graceful.hpp>
#include <costrix/io/listener.hpp>
#include <costrix/metrics_server.hpp>
#include <costrix/version.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>
#include <unistd.h>

using namespace std::chrono_literals;
using costrix::awaitable;
namespace esl = costrix::esl;

awaitable<void> ivr(esl::session& s) {
  auto answered = co_await s.answer();
  if (!answered) co_return;
  esl::digits_options ask{.min = 1, .max = 4, .tries = 3, .timeout = 5s, .terminators = "#",
                          .prompt = "ivr/ivr-please_enter_your_account_number.wav",
                          .invalid_prompt = "ivr/ivr-that_was_an_invalid_entry.wav", .var_name = "account"};
  auto account = co_await s.play_and_get_digits(ask);
  if (account && !account->value.empty()) {
    esl::say_options digits{.text = account->value, .type = "name_spelled", .method = "iterated"};
    co_await s.say(digits);
  }
  co_await s.hangup(esl::cause::normal_clearing);
}

int main(int argc, char** argv) {
  esl::server_options options;
  options.listen = "127.0.0.1:8084";
  costrix::runtime_options rt_options;
  std::string metrics_at;
  costrix::graceful_options graceful_options{.drain = 5s};
  if (argc == 2 && std::string_view(argv[1]) == "--version")
    return std::printf("esl_outbound (costrix) %s\n", costrix::version_string), 0;
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
    else if (flag == "--metrics") metrics_at = argv[i + 1];
    else return std::fprintf(stderr, "usage: esl_outbound [--listen ADDR:PORT] [--threads N] [--drain SECONDS] [--listen-fd N]... [--metrics ADDR:PORT] [--version]\n"), 2;
  }
  options.listen_fds = inherited.empty() ? std::move(given_fds) : std::move(inherited);
  costrix::runtime rt{rt_options};
  esl::server srv{rt, options};
  srv.default_route(ivr);
  if (auto r = srv.start(); !r) return std::fprintf(stderr, "esl_outbound: %s\n", r.error().what().c_str()), 1;
  auto metrics = costrix::metrics::server::start(metrics_at);  // empty (the default): off
  if (!metrics) return std::fprintf(stderr, "esl_outbound: %s\n", metrics.error().what().c_str()), 1;
  std::printf("esl_outbound[%d]: serving socket on port %u on %u threads\n", static_cast<int>(::getpid()), srv.port(),
              rt.size());
  if (*metrics)  // the port it bound (--metrics ADDR:0 picks a free one)
    std::printf("esl_outbound[%d]: metrics at http://%s:%u/metrics\n", static_cast<int>(::getpid()),
                metrics_at.substr(0, metrics_at.rfind(':')).c_str(), (*metrics)->port());
  std::fflush(stdout);

  costrix::graceful graceful{rt, graceful_options};
  graceful.add(srv).start();
  rt.run();
  return 0;
}
