// metrics::registry: per-thread shards summed exactly, and the text format 0.0.4.
#include <costrix/metrics.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <thread>
#include <vector>

namespace metrics = costrix::metrics;

TEST_CASE("metrics: the Prometheus text of a small registry", "[metrics]") {
  metrics::registry r;
  auto calls = r.add_counter("calls_total", "Calls\\answered\nin total", {{"route", "a\"b\\c\nd"}});
  auto other = r.add_counter("calls_total", "ignored: the family has its help", {{"route", "x"}});
  auto active = r.add_gauge("active", "Active now");
  auto latency = r.add_histogram("latency_seconds", "Latency", {0.25, 0.5, 2});
  calls.inc();
  calls.inc(2);
  other.inc();
  active.inc();
  active.inc();
  active.dec();
  latency.observe(0.25);  // on the bound: counted in its bucket
  latency.observe(0.375);
  latency.observe(std::chrono::milliseconds(1500));
  latency.observe(7.0);
  CHECK(metrics::to_prometheus(r.collect()) ==
        "# HELP calls_total Calls\\\\answered\\nin total\n"
        "# TYPE calls_total counter\n"
        "calls_total{route=\"a\\\"b\\\\c\\nd\"} 3\n"
        "calls_total{route=\"x\"} 1\n"
        "# HELP active Active now\n"
        "# TYPE active gauge\n"
        "active 1\n"
        "# HELP latency_seconds Latency\n"
        "# TYPE latency_seconds histogram\n"
        "latency_seconds_bucket{le=\"0.25\"} 1\n"
        "latency_seconds_bucket{le=\"0.5\"} 2\n"
        "latency_seconds_bucket{le=\"2\"} 3\n"
        "latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "latency_seconds_sum 9.125\n"
        "latency_seconds_count 4\n");
}

TEST_CASE("metrics: registering again returns the same series and bad names throw", "[metrics]") {
  metrics::registry r;
  auto a = r.add_counter("x_total", "X", {{"k", "v"}});
  auto b = r.add_counter("x_total", "X", {{"k", "v"}});
  a.inc();
  b.inc();
  CHECK(r.collect().value("x_total", {{"k", "v"}}) == 2);
  CHECK_FALSE(r.collect().value("x_total", {{"k", "w"}}));
  CHECK_THROWS_AS(r.add_gauge("x_total", "X as a gauge"), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("bad name", "?"), std::invalid_argument);
  CHECK_THROWS_AS(r.add_counter("ok_total", "?", {{"le", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.add_histogram("h", "?", {2, 1}), std::invalid_argument);
  metrics::registry tiny(2);
  tiny.add_counter("one", "1");
  CHECK_THROWS_AS(tiny.add_histogram("h", "needs 3 slots", {1}), std::length_error);
}

TEST_CASE("metrics: a disabled registry ignores updates", "[metrics]") {
  metrics::registry r;
  auto c = r.add_counter("c_total", "C");
  r.enable(false);
  c.inc();
  r.enable();
  c.inc();
  CHECK(r.collect().value("c_total") == 1);
  metrics::counter detached;
  detached.inc();  // counts nothing, and does not crash
}

TEST_CASE("metrics: writers on several threads sum exactly while a reader collects", "[metrics]") {
  metrics::registry r;
  metrics::registry other;  // a second registry on the same threads keeps its own shards
  auto c = r.add_counter("ops_total", "Ops");
  auto g = r.add_gauge("open", "Open");
  auto h = r.add_histogram("size", "Size", {10, 100});
  auto o = other.add_counter("other_total", "Other");
  constexpr int threads = 4;
  constexpr int per_thread = 20'000;
  std::atomic<bool> done{false};
  std::atomic<bool> went_down{false};
  std::thread reader([&] {
    double last = 0;
    while (!done.load()) {
      double now = r.collect().value("ops_total").value_or(-1);
      if (now < last) went_down = true;
      last = now;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        c.inc();
        g.inc();
        h.observe(i % 3 == 0 ? 5.0 : 50.0);
        o.inc(2);
        g.dec();
      }
      g.add(t);
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  CHECK_FALSE(went_down);
  auto s = r.collect();
  CHECK(s.value("ops_total") == threads * per_thread);
  CHECK(s.value("open") == 0 + 1 + 2 + 3);
  const metrics::series* size = s.find("size");
  REQUIRE(size);
  const std::uint64_t small = threads * ((per_thread + 2) / 3);
  CHECK(size->buckets == std::vector<std::uint64_t>{small, threads * per_thread, threads * per_thread});
  CHECK(size->count == threads * per_thread);
  CHECK(size->sum == Approx(5.0 * small + 50.0 * (threads * per_thread - small)));
  CHECK(other.collect().value("other_total") == 2 * threads * per_thread);
}
