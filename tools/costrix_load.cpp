// costrix-load: plays Asterisk's side of FastAGI against a server, many calls at once.
//   costrix-load [--target 127.0.0.1:4573] [--calls 1000] [--concurrency 100]
//                [--threads 1] [--script demo] [--show 1]
// --show N prints the whole conversation of the first N calls.
#include <costrix/io/listener.hpp>
#include <costrix/io/runtime.hpp>
#include <costrix/sim/agi_caller.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

using costrix::awaitable;

namespace {

struct settings {
  std::string target = "127.0.0.1:4573";
  std::string script = "demo";
  std::size_t calls = 1000;
  std::size_t concurrency = 100;
  unsigned threads = 1;
  std::size_t show = 0;
};

struct totals {
  std::mutex mutex;
  std::size_t ok = 0;
  std::size_t commands = 0;
  std::map<std::string, std::size_t> errors;  // by kind
};

void print_call(std::size_t n, const costrix::sim::call_report& r) {
  std::printf("call %zu:\n", n + 1);
  for (const auto& ex : r.exchanges) {
    std::string reply = ex.reply;
    while (!reply.empty() && reply.back() == '\n') reply.pop_back();
    for (auto& c : reply)
      if (c == '\n') c = '|';
    std::printf("  -> %-40s <- %s\n", ex.command.c_str(), reply.c_str());
  }
  for (const auto& [k, v] : r.variables) std::printf("  variable %s=%s\n", k.c_str(), v.c_str());
}

awaitable<void> worker(const settings& s, boost::asio::ip::tcp::endpoint ep, std::atomic<std::size_t>& next,
                       totals& t) {
  for (;;) {
    std::size_t n = next.fetch_add(1);
    if (n >= s.calls) co_return;
    costrix::sim::agi_call call;
    call.script = s.script;
    call.callerid = std::to_string(5550000 + n % 10000);
    call.uniqueid = "1700000000." + std::to_string(n);
    call.channel = "PJSIP/sim-" + std::to_string(n);
    auto r = co_await costrix::sim::call_fastagi(ep, std::move(call));
    std::lock_guard lock(t.mutex);
    if (!r) {
      ++t.errors[r.error().what()];
      continue;
    }
    if (n < s.show) print_call(n, *r);
    std::size_t rejected = 0;
    for (const auto& ex : r->exchanges)
      if (ex.reply.starts_with("510") || ex.reply.starts_with("520")) ++rejected;
    t.commands += r->exchanges.size();
    if (rejected) t.errors["commands Asterisk would reject"] += rejected;
    else if (r->exchanges.empty()) ++t.errors["server closed without a command"];
    else ++t.ok;
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--target") s.target = v;
    else if (flag == "--calls") s.calls = std::strtoull(v, nullptr, 10);
    else if (flag == "--concurrency") s.concurrency = std::strtoull(v, nullptr, 10);
    else if (flag == "--threads") s.threads = static_cast<unsigned>(std::atoi(v));
    else if (flag == "--script") s.script = v;
    else if (flag == "--show") s.show = std::strtoull(v, nullptr, 10);
    else {
      std::fprintf(stderr, "usage: costrix-load [--target ADDR:PORT] [--calls N] [--concurrency N] "
                           "[--threads N] [--script PATH?QUERY] [--show N]\n");
      return 2;
    }
  }
  auto ep = costrix::io::parse_endpoint(s.target);
  if (!ep) return std::fprintf(stderr, "costrix-load: %s\n", ep.error().what().c_str()), 2;

  // Each call holds one descriptor; stay under the open-file limit.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  std::size_t cap = lim.rlim_cur > 64 ? lim.rlim_cur - 64 : 1;
  if (s.concurrency > cap) {
    std::fprintf(stderr, "costrix-load: concurrency %zu lowered to %zu (open-file limit %llu)\n", s.concurrency,
                 cap, static_cast<unsigned long long>(lim.rlim_cur));
    s.concurrency = cap;
  }

  costrix::runtime rt{{.threads = s.threads}};
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> running{s.concurrency};
  totals t;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t w = 0; w < s.concurrency; ++w) {
    boost::asio::co_spawn(rt.executor(static_cast<unsigned>(w % rt.size())), worker(s, *ep, next, t),
                          [&](std::exception_ptr) {
                            if (--running == 0) rt.stop();
                          });
  }
  rt.run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::size_t failed = 0;
  for (const auto& [kind, n] : t.errors) failed += n;
  std::printf("costrix-load: %zu calls to agi://%s/%s, concurrency %zu: %zu ok, %zu errors, %zu commands, "
              "%.2f s (%.0f calls/s)\n",
              s.calls, s.target.c_str(), s.script.c_str(), s.concurrency, t.ok, failed, t.commands, seconds,
              seconds > 0 ? static_cast<double>(t.ok) / seconds : 0.0);
  for (const auto& [kind, n] : t.errors) std::printf("  error: %zu x %s\n", n, kind.c_str());
  return failed == 0 ? 0 : 1;
}
