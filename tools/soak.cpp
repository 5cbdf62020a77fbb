#include "soak.hpp"

#include <condition_variable>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

namespace costrix_load {

std::optional<process_usage> read_process_usage(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  if (!status) return std::nullopt;
  process_usage u;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  DIR* d = ::opendir((dir + "/fd").c_str());
  if (!d) return std::nullopt;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++u.fds;
  }
  ::closedir(d);
  if (pid == ::getpid() && u.fds > 0) --u.fds;  // the directory stream just read
  return u;
}

namespace {

std::string usage_text(const std::optional<process_usage>& u) {
  if (!u) return "gone";
  char buf[64];
  std::snprintf(buf, sizeof buf, "RSS %7llu KiB fds %5llu", static_cast<unsigned long long>(u->rss_kib),
                static_cast<unsigned long long>(u->fds));
  return buf;
}

}  // namespace

costrix::sim::load_report run_soak(const costrix::sim::load_options& load, const soak_options& soak, std::FILE* out) {
  costrix::sim::load_progress progress;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread reporter([&] {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto last = start;
    std::uint64_t last_ok = 0;
    std::unique_lock lock(m);
    auto next = start + soak.interval;
    while (!cv.wait_until(lock, next, [&] { return done; })) {
      const auto now = clock::now();
      const std::uint64_t ok = progress.ok.load(), failed = progress.failed.load();
      const double window = std::chrono::duration<double>(now - last).count();
      std::string line = "soak " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - start).count()) +
                         " s: calls " + std::to_string(ok) + " ok " + std::to_string(failed) + " failed";
      char rate[48];
      std::snprintf(rate, sizeof rate, ", %.0f calls/s", window > 0 ? (ok - last_ok) / window : 0.0);
      line += rate;
      line += ", generator " + usage_text(read_process_usage(::getpid()));
      if (soak.watch_pid > 0) line += ", server " + usage_text(read_process_usage(soak.watch_pid));
      std::fprintf(out, "%s\n", line.c_str());
      std::fflush(out);
      last = now;
      last_ok = ok;
      next += soak.interval;
    }
  });
  auto report = costrix::sim::run_load(load, &progress);
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  reporter.join();
  return report;
}

}  // namespace costrix_load
