#include <costrix/sim/histogram.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using costrix::sim::histogram;

TEST_CASE("histogram: percentiles within 1.6 % and an exact max", "[sim][histogram]") {
  histogram h;
  for (int us = 1; us <= 1000; ++us) h.record(std::chrono::microseconds(us));
  CHECK(h.count() == 1000);
  CHECK(h.max() == 1000us);
  auto near = [](std::chrono::nanoseconds got, std::chrono::nanoseconds want) {
    double ratio = static_cast<double>(got.count()) / static_cast<double>(want.count());
    return ratio > 0.984 && ratio < 1.016;
  };
  CHECK(near(h.percentile(50), 500us));
  CHECK(near(h.percentile(90), 900us));
  CHECK(near(h.percentile(99), 990us));
  CHECK(h.percentile(100) == 1000us);
  CHECK(near(h.mean(), 500500ns));
}

TEST_CASE("histogram: small values are exact - huge ones are kept in the last bucket", "[sim][histogram]") {
  histogram h;
  for (int i = 0; i < 10; ++i) h.record(std::chrono::nanoseconds(i));
  CHECK(h.percentile(50) == 4ns);
  h.record(std::chrono::hours(5));
  CHECK(h.max() == std::chrono::hours(5));
  CHECK(h.percentile(100) <= std::chrono::hours(5));
  h.record(std::chrono::nanoseconds(-5));  // a clock step backwards counts as 0
  CHECK(h.count() == 12);
}

TEST_CASE("histogram: merging equals recording into one", "[sim][histogram]") {
  histogram a, b, all;
  for (int i = 1; i <= 500; ++i) {
    a.record(std::chrono::microseconds(i));
    all.record(std::chrono::microseconds(i));
  }
  for (int i = 501; i <= 1000; ++i) {
    b.record(std::chrono::microseconds(i));
    all.record(std::chrono::microseconds(i));
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.max() == all.max());
  for (double p : {50.0, 90.0, 99.0, 99.9}) CHECK(a.percentile(p) == all.percentile(p));
}
