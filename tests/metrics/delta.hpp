// metrics::library() is process-wide: a test reads what changed since it began.
#pragma once

#include <costrix/metrics.hpp>

#include <string_view>

namespace costrix::test {

/// A snapshot of library() taken at construction; delta() is a series' change since.
class metrics_baseline {
 public:
  metrics_baseline() : before_(metrics::library().collect()) {}
  /// The change of a counter's or gauge's value (a histogram's count); 0 for a series not there.
  double delta(std::string_view name, const metrics::labels& l = {}) const {
    return now(name, l) - before_.value(name, l).value_or(0);
  }
  static double now(std::string_view name, const metrics::labels& l = {}) {
    return metrics::library().collect().value(name, l).value_or(0);
  }

 private:
  metrics::snapshot before_;
};

/// library() enabled for a test's lifetime, disabled again after it (as the other tests leave it).
class metrics_enabled {
 public:
  metrics_enabled() { metrics::library().enable(); }
  ~metrics_enabled() { metrics::library().enable(false); }
  metrics_enabled(const metrics_enabled&) = delete;
  metrics_enabled& operator=(const metrics_enabled&) = delete;
};

}  // namespace costrix::test
