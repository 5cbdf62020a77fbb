#include <costrix/sim/load.hpp>

#include "esl_load.hpp"

#include <costrix/io/listener.hpp>
#include <costrix/io/runtime.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <memory>

namespace costrix::sim {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// Raises the soft open-file limit to the hard one; returns what a process may hold.
std::size_t descriptor_budget() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? 1'000'000 : static_cast<std::size_t>(lim.rlim_cur);
}

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The results of the calls that ran on one core; touched only by that core.
struct shard {
  load_report part;
  std::size_t active = 0;
};

class runner {
 public:
  runner(load_options o, load_progress* p) : options_(std::move(o)), progress_(p ? p : &own_progress_),
                                             rt_({.threads = options_.threads}) {
    for (unsigned i = 0; i < rt_.size(); ++i) shards_.push_back(std::make_unique<shard>());
  }

  load_report run() {
    load_report report;
    for (std::size_t at = 0; at <= options_.target.size();) {
      auto comma = options_.target.find(',', at);
      if (comma == std::string::npos) comma = options_.target.size();
      auto ep = io::parse_endpoint(std::string_view(options_.target).substr(at, comma - at));
      if (!ep) {
        report.errors[ep.error().what()] = 1;
        return report;
      }
      endpoints_.push_back(*ep);
      targets_.push_back(options_.target.substr(at, comma - at));
      at = comma + 1;
    }
    std::size_t budget = descriptor_budget();
    std::size_t cap = budget > 64 ? budget - 64 : 1;
    if (options_.concurrency > cap) {
      report.errors[fmt::format("concurrency lowered from {} to {}: open-file limit {}", options_.concurrency, cap,
                                budget)] = 0;
      options_.concurrency = cap;
    }
    if (options_.concurrency == 0) options_.concurrency = 1;
    if (options_.park && options_.protocol == load_protocol::esl) {
      report.errors["park mode is for FastAGI only"] = 1;
      return report;
    }
    if (endpoints_.size() > 1 && options_.protocol == load_protocol::esl) {
      report.errors["several targets are for FastAGI only"] = 1;
      return report;
    }
    if (options_.park) {
      options_.calls = options_.concurrency;
      options_.rate = 0;
      options_.call.rules["*"].hold = true;
    }
    start_ = clock::now();
    if (options_.duration.count() > 0) stop_at_ = start_ + options_.duration;

    if (options_.rate > 0) {
      outstanding_ = rt_.size();
      for (unsigned i = 0; i < rt_.size(); ++i) asio::co_spawn(rt_.executor(i), pace(i), asio::detached);
    } else {
      outstanding_ = options_.concurrency;
      for (std::size_t w = 0; w < options_.concurrency; ++w) {
        unsigned core = static_cast<unsigned>(w % rt_.size());
        asio::co_spawn(rt_.executor(core), worker(core), asio::detached);
      }
    }
    rt_.run();

    auto elapsed = clock::now() - start_;
    for (auto& s : shards_) {
      auto& p = s->part;
      report.ok += p.ok;
      report.failed += p.failed;
      report.commands += p.commands;
      report.call_latency.merge(p.call_latency);
      for (auto& [name, h] : p.command_latency) report.command_latency[name].merge(h);
      for (auto& [kind, n] : p.errors) report.errors[kind] += n;
      for (auto& [target, n] : p.by_target) report.by_target[target] += n;
    }
    report.skipped = progress_->skipped.load();
    report.elapsed = elapsed;
    report.concurrency = options_.concurrency;
    return report;
  }

 private:
  // Takes the next call number, or false when no more calls may start.
  bool next_call(std::uint64_t& n) {
    if (stop_at_ && clock::now() >= *stop_at_) return false;
    if (progress_->stop.load(std::memory_order_relaxed)) return false;
    n = next_.fetch_add(1, std::memory_order_relaxed);
    return options_.calls == 0 || n < options_.calls;
  }

  awaitable<void> worker(unsigned core) {
    std::uint64_t n = 0;
    while (next_call(n)) co_await one_call(core, n);
    finished();
  }

  // Open loop: this core starts calls at rate / threads per second.
  awaitable<void> pace(unsigned core) {
    asio::steady_timer timer{co_await asio::this_coro::executor};
    auto interval = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(static_cast<double>(rt_.size()) / options_.rate));
    std::size_t limit = std::max<std::size_t>(1, options_.concurrency / rt_.size());
    auto due = clock::now();
    std::uint64_t n = 0;
    while (next_call(n)) {
      if (shards_[core]->active >= limit) {
        progress_->skipped.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++outstanding_;
        asio::co_spawn(timer.get_executor(), [this, core, n]() -> awaitable<void> {
          co_await one_call(core, n);
          finished();
        }, asio::detached);
      }
      due += interval;
      timer.expires_at(due);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    finished();
  }

  awaitable<void> one_call(unsigned core, std::uint64_t n) {
    if (options_.protocol == load_protocol::esl) {
      co_await one_esl_call(core, n);
      co_return;
    }
    shard& sh = *shards_[core];
    agi_call call = options_.call;
    call.channel = fmt::format("PJSIP/sim-{:08x}", n);
    call.uniqueid = fmt::format("1700000000.{}", n);
    call.callerid = std::to_string(5550000 + n % 10000);
    play_options po{.keep_exchanges = false, .stall_timeout = options_.stall_timeout};
    if (options_.park) po.on_hold = [this] { parked(); };
    ++sh.active;
    progress_->started.fetch_add(1, std::memory_order_relaxed);
    auto began = clock::now();
    std::size_t taken_by = 0;
    auto r = co_await call_fastagi(endpoints_, std::move(call), std::move(po), &taken_by);
    --sh.active;
    auto& p = sh.part;
    if (!r) {
      count_failure(p, r.error().what());
      if (options_.park) settled();
      co_return;
    }
    p.commands += r->timings.size();
    progress_->commands.fetch_add(r->timings.size(), std::memory_order_relaxed);
    for (const auto& t : r->timings) {
      auto it = p.command_latency.find(t.name);
      if (it == p.command_latency.end()) it = p.command_latency.emplace(std::string(t.name), histogram{}).first;
      it->second.record(t.latency);
    }
    bool bad = false;
    if (r->rejected) {
      p.errors["commands Asterisk would reject (510/520)"] += r->rejected;
      bad = true;
    }
    if (r->timings.empty()) {
      ++p.errors["closed without sending a command"];
      bad = true;
    }
    if (bad) {
      ++p.failed;
      progress_->failed.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++p.ok;
      ++p.by_target[targets_[taken_by]];
      p.call_latency.record(clock::now() - began);
      progress_->ok.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void count_failure(load_report& p, std::string what) {
    ++p.failed;
    ++p.errors[std::move(what)];
    progress_->failed.fetch_add(1, std::memory_order_relaxed);
  }

  awaitable<void> one_esl_call(unsigned core, std::uint64_t n) {
    shard& sh = *shards_[core];
    ++sh.active;
    progress_->started.fetch_add(1, std::memory_order_relaxed);
    auto began = clock::now();
    auto r = co_await detail::esl_load_call(endpoints_.front(), options_, n);
    --sh.active;
    auto& p = sh.part;
    if (!r) {
      count_failure(p, r.error().what());
      co_return;
    }
    p.commands += *r;
    progress_->commands.fetch_add(*r, std::memory_order_relaxed);
    ++p.ok;
    p.call_latency.record(clock::now() - began);
    progress_->ok.fetch_add(1, std::memory_order_relaxed);
  }

  void parked() {
    progress_->parked.fetch_add(1);
    settled();
  }

  // Park mode: once every call is parked or has failed, let the caller look,
  // then end the run.
  void settled() {
    if (settled_.fetch_add(1) + 1 != options_.concurrency) return;
    asio::post(rt_.executor(0), [this] {
      if (options_.on_parked) options_.on_parked(progress_->parked.load());
      rt_.stop();
    });
  }

  void finished() {
    if (--outstanding_ == 0) rt_.stop();
  }

  load_options options_;
  load_progress own_progress_;
  load_progress* progress_;
  runtime rt_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<asio::ip::tcp::endpoint> endpoints_;  // the targets, in the order tried
  std::vector<std::string> targets_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::size_t> outstanding_{0};
  std::atomic<std::size_t> settled_{0};
  clock::time_point start_;
  std::optional<clock::time_point> stop_at_;
};

}  // namespace

double load_report::calls_per_second() const noexcept {
  return elapsed.count() > 0 ? static_cast<double>(ok) / elapsed.count() : 0.0;
}

double load_report::commands_per_second() const noexcept {
  return elapsed.count() > 0 ? static_cast<double>(commands) / elapsed.count() : 0.0;
}

std::string load_report::text() const {
  std::string out = fmt::format(
      "calls: {} ok, {} failed, {} commands in {:.2f} s: {:.0f} calls/s, {:.0f} commands/s (concurrency {})\n", ok,
      failed, commands, elapsed.count(), calls_per_second(), commands_per_second(), concurrency);
  if (skipped) out += fmt::format("calls not started (concurrency limit reached): {}\n", skipped);
  out += fmt::format("{:<28}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}\n", "latency (ms)", "count", "p50", "p90", "p99", "p99.9",
                     "max");
  auto row = [&](std::string_view name, const histogram& h) {
    out += fmt::format("{:<28}{:>9}{:>9.3f}{:>9.3f}{:>9.3f}{:>9.3f}{:>9.3f}\n", name, h.count(), ms(h.percentile(50)),
                       ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.max()));
  };
  row("call", call_latency);
  for (const auto& [name, h] : command_latency) row(name, h);
  for (const auto& [kind, n] : errors) out += fmt::format("error: {} x {}\n", n, kind);
  if (by_target.size() > 1)
    for (const auto& [target, n] : by_target) out += fmt::format("target {}: {} calls\n", target, n);
  return out;
}

std::string load_report::json() const {
  auto quoted = [](std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        q += fmt::format("\\u{:04x}", c);
        continue;
      }
      q += c;
    }
    return q + "\"";
  };
  auto latency = [](const histogram& h) {
    return fmt::format(
        "{{\"count\":{},\"p50_ms\":{:.4f},\"p90_ms\":{:.4f},\"p99_ms\":{:.4f},\"p999_ms\":{:.4f},\"max_ms\":{:.4f}}}",
        h.count(), ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)),
        ms(h.max()));
  };
  std::string out = fmt::format(
      "{{\"elapsed_s\":{:.4f},\"concurrency\":{},\"calls_ok\":{},\"calls_failed\":{},\"commands\":{},"
      "\"skipped\":{},\"calls_per_s\":{:.1f},\"commands_per_s\":{:.1f},\"call_latency\":{},\"command_latency\":{{",
      elapsed.count(), concurrency, ok, failed, commands, skipped, calls_per_second(), commands_per_second(),
      latency(call_latency));
  bool first = true;
  for (const auto& [name, h] : command_latency) {
    out += fmt::format("{}{}:{}", first ? "" : ",", quoted(name), latency(h));
    first = false;
  }
  out += "},\"by_target\":{";
  first = true;
  for (const auto& [target, n] : by_target) {
    out += fmt::format("{}{}:{}", first ? "" : ",", quoted(target), n);
    first = false;
  }
  out += "},\"errors\":{";
  first = true;
  for (const auto& [kind, n] : errors) {
    out += fmt::format("{}{}:{}", first ? "" : ",", quoted(kind), n);
    first = false;
  }
  return out + "}}";
}

load_report run_load(load_options options, load_progress* progress) {
  runner r{std::move(options), progress};
  return r.run();
}

}  // namespace costrix::sim
