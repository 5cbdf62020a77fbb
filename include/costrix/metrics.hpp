// costrix::metrics: counters, gauges and histograms kept per thread and summed
// when read. A writer touches only its own thread's shard (a relaxed load and
// store, no lock, no read-modify-write); collect() sums the shards from any
// thread; to_prometheus() writes the text exposition format 0.0.4.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::metrics {

enum class kind { counter, gauge, histogram };

/// Label names and values, fixed when a series is registered.
using labels = std::vector<std::pair<std::string, std::string>>;

class registry;

namespace detail {
using slot = std::atomic<std::uint64_t>;
struct cached_shard {
  std::uint64_t registry_id = 0;
  slot* slots = nullptr;
};
inline thread_local cached_shard last_shard;
slot* attach(const registry& r);  // this thread's shard of `r`, created on first use
}  // namespace detail

/// A monotonic count. A default-constructed counter counts nothing.
class counter {
 public:
  counter() = default;
  inline void inc(std::uint64_t n = 1) const noexcept;

 private:
  friend class registry;
  counter(const registry* r, std::uint32_t slot) : r_(r), slot_(slot) {}
  const registry* r_ = nullptr;
  std::uint32_t slot_ = 0;
};

/// A value that goes up and down (sessions active, actions in flight); each
/// thread keeps its own change, so inc() on one thread and dec() on another sum to 0.
/// It moves even while its registry is disabled, so it never drifts below 0.
class gauge {
 public:
  gauge() = default;
  inline void add(std::int64_t n) const noexcept;
  void inc() const noexcept { add(1); }
  void dec() const noexcept { add(-1); }

 private:
  friend class registry;
  gauge(const registry* r, std::uint32_t slot) : r_(r), slot_(slot) {}
  const registry* r_ = nullptr;
  std::uint32_t slot_ = 0;
};

/// Observations counted in fixed buckets (upper bounds, ascending), with their sum.
class histogram {
 public:
  histogram() = default;
  inline void observe(double v) const noexcept;
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) const noexcept {
    observe(std::chrono::duration<double>(d).count());
  }

 private:
  friend class registry;
  histogram(const registry* r, std::uint32_t slot, const double* bounds, std::uint32_t n)
      : r_(r), bounds_(bounds), slot_(slot), n_(n) {}
  const registry* r_ = nullptr;
  const double* bounds_ = nullptr;
  std::uint32_t slot_ = 0;  // n_ + 1 bucket counts (the last is +Inf), then the sum's bits
  std::uint32_t n_ = 0;
};

/// One series as read: a counter's or gauge's value, or a histogram's
/// cumulative bucket counts (one per bound, then +Inf), sum and count.
struct series {
  metrics::labels labels;
  double value = 0;
  std::vector<std::uint64_t> buckets;
  double sum = 0;
  std::uint64_t count = 0;
};

struct family {
  std::string name;
  std::string help;
  kind type = kind::counter;
  std::vector<double> bounds;  ///< histograms' bucket upper bounds
  std::vector<metrics::series> series;
};

/// Every family of a registry, summed over its threads at one moment.
struct snapshot {
  std::vector<family> families;
  /// A counter's or gauge's value, or a histogram's count; nullopt when no such series.
  std::optional<double> value(std::string_view name, const labels& l = {}) const;
  const metrics::series* find(std::string_view name, const labels& l = {}) const;
};

/// Families of named series. Registration (rare: at start-up) takes a lock;
/// registering the same name and labels again returns the same series.
/// Throws std::invalid_argument for a bad name or a name registered with
/// another type or other buckets, std::length_error past `capacity`.
class registry {
 public:
  /// `capacity`: value slots per thread (a counter or gauge takes 1, a histogram its bounds + 2).
  explicit registry(std::size_t capacity = 4096);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  counter add_counter(std::string_view name, std::string_view help, const labels& l = {});
  gauge add_gauge(std::string_view name, std::string_view help, const labels& l = {});
  histogram add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                          const labels& l = {});

  /// Sums every thread's shard; callable from any thread, never blocks writers.
  snapshot collect() const;

  /// A disabled registry ignores counter and histogram updates (one relaxed load
  /// each). Gauges move either way (a gauge's up and its down may fall on either side of enable()).
  void enable(bool on = true) noexcept { enabled_.store(on, std::memory_order_relaxed); }
  bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }

 private:
  friend class counter;
  friend class gauge;
  friend class histogram;
  friend detail::slot* detail::attach(const registry&);
  struct family_entry;
  struct shard;
  std::uint32_t add(std::string_view name, std::string_view help, kind type, std::vector<double> bounds,
                    const labels& l, const double** bounds_out);
  detail::slot* slots() const noexcept {
    auto& c = detail::last_shard;
    return c.registry_id == id_ ? c.slots : detail::attach(*this);
  }

  std::atomic<bool> enabled_{true};
  const std::uint64_t id_;
  const std::size_t capacity_;
  std::uint32_t used_ = 0;
  mutable std::mutex mutex_;  // families_ and shards_; never taken by an update once the thread has its shard
  std::vector<std::unique_ptr<family_entry>> families_;
  mutable std::vector<std::unique_ptr<shard>> shards_;
};

/// The registry costrix's own metrics go to (docs/operations.md lists them).
/// Disabled until enable() is called on it; serving it (metrics_server) enables it.
registry& library();

/// The Prometheus text exposition format 0.0.4 of a snapshot.
std::string to_prometheus(const snapshot& s);

// ---- the updates: the thread's own slot, no read-modify-write ----

inline void counter::inc(std::uint64_t n) const noexcept {
  if (!r_ || !r_->enabled()) return;
  auto& s = r_->slots()[slot_];
  s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// A gauge moves whether the registry is enabled or not: an inc() made while
// it was disabled and its dec() made after enable() must still sum to 0.
inline void gauge::add(std::int64_t n) const noexcept {
  if (!r_) return;
  auto& s = r_->slots()[slot_];
  s.store(s.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(n), std::memory_order_relaxed);
}

inline void histogram::observe(double v) const noexcept {
  if (!r_ || !r_->enabled()) return;
  detail::slot* s = r_->slots() + slot_;
  std::uint32_t i = 0;
  while (i < n_ && v > bounds_[i]) ++i;
  s[i].store(s[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto& sum = s[n_ + 1];
  double total = std::bit_cast<double>(sum.load(std::memory_order_relaxed)) + v;
  sum.store(std::bit_cast<std::uint64_t>(total), std::memory_order_relaxed);
}

}  // namespace costrix::metrics
