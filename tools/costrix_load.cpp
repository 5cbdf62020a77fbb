// costrix-load: plays Asterisk's side of FastAGI against any FastAGI server,
// or FreeSWITCH's side of the outbound Event Socket (--protocol esl).
// `costrix-load --help` lists the options; docs/simulator.md explains them.
#include <costrix/io/listener.hpp>
#include <costrix/sim/load.hpp>
#include <costrix/version.hpp>

#include "soak.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr const char* usage = R"(usage: costrix-load [options]
  --protocol fastagi|esl  what the calls speak: Asterisk's FastAGI (default), or FreeSWITCH's
                          outbound Event Socket as the `socket` application (an ESL outbound server)
  --target ADDR:PORT[,ADDR:PORT...]
                          the server (default 127.0.0.1:4573; ESL: give its port, e.g. 127.0.0.1:8084);
                          FastAGI, several: each call tries them in order and goes to the first
                          that takes it (as Asterisk's hagi:// with SRV records); totals per target
  --script PATH?QUERY     agi_network_script of every call (default demo)
  --arg VALUE             an agi_arg_N (repeat for more)
  --calls N               stop after N calls (default 1000; 0 = no limit)
  --duration SECONDS      stop starting calls after this long
  --concurrency N         calls in progress at most (default 100)
  --rate CPS              open loop: start CPS calls per second (default: closed loop)
  --threads N             generator threads (default 1)
  --think MS              wait before every reply
  --delay NAME=MS         wait before replying to command NAME ("STREAM FILE=500"; NAME * = all)
  --reply NAME=TEXT       answer command NAME with TEXT ("GET DATA=200 result=1234")
  --hangup-on NAME        the caller hangs up during command NAME
  --dtmf KEYS             keys each caller presses, in order
  --stall-timeout MS      a server silent this long fails the call (default 10000; ESL: a call
                          lasting this long)
  --destination NUMBER    ESL: the dialed number of every call (default 9000)
  --var NAME=VALUE        ESL: a channel variable of every call (repeat for more)
  --park                  hold every call at its first command; print "parked N" when all
                          are held, then wait for standard input to close
  --show N                first play N calls one by one and print their conversation
  --json FILE             also write the results as JSON to FILE (- for standard output)
  --quiet                 no progress line
  --version               print the version and exit
  --soak                  long constant-rate run (use --rate and --duration; --calls defaults
                          to no limit): every --interval seconds a line with the calls ok and
                          failed, calls/s, and the generator's resident memory and descriptors
  --interval SECONDS      soak: seconds between lines (default 10)
  --watch-pid PID         soak: also report this process's resident memory and descriptors
)";

struct cli {
  costrix::sim::load_options load;
  std::size_t show = 0;
  std::string json;
  bool quiet = false;
  bool version = false;
  bool soak = false;
  bool calls_given = false;
  costrix_load::soak_options soak_options;
};

bool split_rule(std::string_view text, std::string& name, std::string& value) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  name = std::string(text.substr(0, eq));
  value = std::string(text.substr(eq + 1));
  return true;
}

bool parse(int argc, char** argv, cli& c) {
  auto& o = c.load;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--park") { o.park = true; continue; }
    if (flag == "--quiet") { c.quiet = true; continue; }
    if (flag == "--version") { c.version = true; continue; }
    if (flag == "--soak") { c.soak = true; continue; }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    std::string name, value;
    if (flag == "--protocol" && (v == "esl" || v == "fastagi"))
      o.protocol = v == "esl" ? costrix::sim::load_protocol::esl : costrix::sim::load_protocol::fastagi;
    else if (flag == "--target") o.target = v;
    else if (flag == "--destination") o.esl.destination_number = v;
    else if (flag == "--var" && split_rule(v, name, value)) o.esl.variables[name] = value;
    else if (flag == "--script") o.call.script = v;
    else if (flag == "--arg") o.call.args.push_back(v);
    else if (flag == "--calls") { o.calls = std::strtoull(v.c_str(), nullptr, 10); c.calls_given = true; }
    else if (flag == "--interval") c.soak_options.interval = std::chrono::seconds(std::max(1L, std::atol(v.c_str())));
    else if (flag == "--watch-pid") c.soak_options.watch_pid = static_cast<pid_t>(std::atol(v.c_str()));
    else if (flag == "--duration") o.duration = std::chrono::milliseconds(static_cast<long>(std::atof(v.c_str()) * 1000));
    else if (flag == "--concurrency") o.concurrency = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--rate") o.rate = std::atof(v.c_str());
    else if (flag == "--threads") o.threads = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (flag == "--think") o.call.think_time = std::chrono::milliseconds(std::atol(v.c_str()));
    else if (flag == "--dtmf") o.call.dtmf = o.esl.dtmf = v;
    else if (flag == "--stall-timeout") o.stall_timeout = std::chrono::milliseconds(std::atol(v.c_str()));
    else if (flag == "--hangup-on") o.call.rules[v].hangup = true;
    else if (flag == "--delay" && split_rule(v, name, value)) {
      // The ESL simulator's rules are by application name ("playback").
      o.call.rules[name].delay = o.esl.rules[name].delay = std::chrono::milliseconds(std::atol(value.c_str()));
    }
    else if (flag == "--reply" && split_rule(v, name, value)) o.call.rules[name].reply = value;
    else if (flag == "--show") c.show = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--json") c.json = v;
    else return false;
  }
  if (c.soak && !c.calls_given) o.calls = 0;
  return o.threads > 0 && (!c.soak || (o.rate > 0 && o.duration.count() > 0));
}

// Plays one call to its end on `ctx`, printing its heading (and its error, if any).
template <class Call>
auto play(boost::asio::io_context& ctx, std::size_t n, Call call) {
  auto f = boost::asio::co_spawn(ctx, std::move(call), boost::asio::use_future);
  ctx.restart();
  ctx.run();
  auto r = f.get();
  std::printf("call %zu:\n", n + 1);
  if (!r) std::printf("  error: %s\n", r.error().what().c_str());
  return r;
}

void show_calls(const cli& c) {
  auto ep = costrix::io::parse_endpoint(c.load.target.substr(0, c.load.target.find(',')));  // the first target
  if (!ep) return;
  boost::asio::io_context ctx;
  if (c.load.protocol == costrix::sim::load_protocol::esl) {
    for (std::size_t n = 0; n < c.show; ++n) {
      auto r = play(ctx, n, costrix::sim::call_esl_outbound(*ep, c.load.esl));
      if (!r) continue;
      for (auto command : r->commands) {
        for (auto& ch : command)
          if (ch == '\n') ch = '|';
        std::printf("  -> %s\n", command.c_str());
      }
      if (r->hung_up) std::printf("  hung up: %s\n", r->hangup_cause.c_str());
    }
    return;
  }
  for (std::size_t n = 0; n < c.show; ++n) {
    auto r = play(ctx, n, costrix::sim::call_fastagi(*ep, c.load.call));
    if (!r) continue;
    for (const auto& ex : r->exchanges) {
      std::string reply = ex.reply;
      while (!reply.empty() && reply.back() == '\n') reply.pop_back();
      for (auto& ch : reply)
        if (ch == '\n') ch = '|';
      std::printf("  -> %-40s <- %s\n", ex.command.c_str(), reply.c_str());
    }
    for (const auto& [k, v] : r->variables) std::printf("  variable %s=%s\n", k.c_str(), v.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  cli c;
  if (!parse(argc, argv, c)) {
    std::fputs(usage, stderr);
    return 2;
  }
  if (c.version) return std::printf("costrix-load (costrix) %s\n", costrix::version_string), 0;
  if (c.show) show_calls(c);
  if (c.load.park) {
    c.load.on_parked = [](std::size_t n) {
      std::printf("parked %zu\n", n);
      std::fflush(stdout);
      std::string ignored;
      while (std::getline(std::cin, ignored)) {
      }
    };
  }

  // A progress line on a terminal, once a second.
  costrix::sim::load_progress progress;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread display;
  if (!c.quiet && !c.soak && ::isatty(2)) {
    display = std::thread([&] {
      auto start = std::chrono::steady_clock::now();
      std::unique_lock lock(m);
      while (!cv.wait_for(lock, 1s, [&] { return done; })) {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        auto ok = progress.ok.load(), failed = progress.failed.load();
        std::fprintf(stderr, "\r%6.0f s  calls %llu ok, %llu failed  %7.0f calls/s  in progress %llu   ", s,
                     static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed), ok / s,
                     static_cast<unsigned long long>(progress.started.load() - ok - failed));
      }
      std::fprintf(stderr, "\n");
    });
  }
  auto report = c.soak ? costrix_load::run_soak(c.load, c.soak_options, stdout) : costrix::sim::run_load(c.load, &progress);
  if (display.joinable()) {
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_one();
    display.join();
  }

  std::string mode = "closed loop";
  if (c.load.rate > 0) mode = "open loop at " + std::to_string(static_cast<long>(c.load.rate)) + " calls/s";
  std::string what = c.load.protocol == costrix::sim::load_protocol::esl
                         ? "esl socket " + c.load.target + " (dialed " + c.load.esl.destination_number + ")"
                         : "agi://" + c.load.target + "/" + c.load.call.script;
  std::printf("costrix-load: %s, %s, generator threads: %u\n%s", what.c_str(), mode.c_str(), c.load.threads,
              report.text().c_str());
  if (!c.json.empty()) {
    if (c.json == "-") {
      std::printf("%s\n", report.json().c_str());
    } else if (FILE* f = std::fopen(c.json.c_str(), "w")) {
      std::fprintf(f, "%s\n", report.json().c_str());
      std::fclose(f);
    }
  }
  return report.failed == 0 && report.ok > 0 ? 0 : 1;
}
