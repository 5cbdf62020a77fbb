// sim::histogram: latencies in fixed memory, percentiles within 1.6 %.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>

namespace costrix::sim {

/// Log-linear buckets over nanoseconds: exact below 64 ns, then 64 buckets per
/// power of two, up to about 18 minutes (longer values count in the last
/// bucket; max() stays exact). 18 KiB, no allocation, mergeable.
class histogram {
 public:
  void record(std::chrono::nanoseconds d) noexcept {
    auto v = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
    ++counts_[index(v)];
    ++count_;
    if (v > max_) max_ = v;
    sum_ += v;
  }
  void merge(const histogram& o) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
  }
  std::uint64_t count() const noexcept { return count_; }
  std::chrono::nanoseconds max() const noexcept { return std::chrono::nanoseconds(max_); }
  std::chrono::nanoseconds mean() const noexcept {
    return std::chrono::nanoseconds(count_ ? sum_ / count_ : 0);
  }
  /// The value below which `p` percent of the samples fall (p in 0..100).
  std::chrono::nanoseconds percentile(double p) const noexcept {
    if (count_ == 0) return {};
    auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_) + 0.5);
    if (rank < 1) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        auto v = upper(i);
        return std::chrono::nanoseconds(v < max_ ? v : max_);
      }
    }
    return max();
  }

 private:
  static constexpr unsigned sub_bits = 6;  // 64 buckets per power of two
  static constexpr unsigned top_bit = 40;  // 2^40 ns ~ 18 min
  static constexpr std::size_t buckets = (top_bit - sub_bits + 2) << sub_bits;

  static std::size_t index(std::uint64_t v) noexcept {
    if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
    unsigned msb = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= sub_bits
    if (msb > top_bit) return buckets - 1;
    std::uint64_t sub = (v >> (msb - sub_bits)) & ((1u << sub_bits) - 1);
    return ((msb - sub_bits + 1) << sub_bits) + static_cast<std::size_t>(sub);
  }
  // The largest value that lands in bucket i.
  static std::uint64_t upper(std::size_t i) noexcept {
    if (i < (1u << sub_bits)) return i;
    unsigned msb = static_cast<unsigned>(i >> sub_bits) + sub_bits - 1;
    std::uint64_t sub = i & ((1u << sub_bits) - 1);
    std::uint64_t low = (std::uint64_t{1} << msb) | (sub << (msb - sub_bits));
    return low + (std::uint64_t{1} << (msb - sub_bits)) - 1;
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace costrix::sim
