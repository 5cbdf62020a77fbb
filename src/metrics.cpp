#include <costrix/metrics.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace costrix::metrics {
namespace {

std::atomic<std::uint64_t> next_registry_id{1};

bool valid_name(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::uint32_t slots_of(kind type, std::size_t bounds) {
  return type == kind::histogram ? static_cast<std::uint32_t>(bounds + 2) : 1;
}

}  // namespace

struct registry::family_entry {
  std::string name;
  std::string help;
  kind type;
  std::vector<double> bounds;
  struct entry {
    metrics::labels labels;
    std::uint32_t slot;
  };
  std::vector<entry> series;
};

// One thread's values: written by that thread only.
struct registry::shard {
  explicit shard(std::size_t n) : values(std::make_unique<detail::slot[]>(n + 8)) {}
  std::thread::id owner = std::this_thread::get_id();
  std::unique_ptr<detail::slot[]> values;  // 8 spare slots: no neighbour on the last cache line
};

registry::registry(std::size_t capacity) : id_(next_registry_id.fetch_add(1)), capacity_(capacity) {}

registry::~registry() = default;

std::uint32_t registry::add(std::string_view name, std::string_view help, kind type, std::vector<double> bounds,
                            const labels& l, const double** bounds_out) {
  if (!valid_name(name, true)) throw std::invalid_argument(fmt::format("metrics: bad metric name \"{}\"", name));
  for (const auto& [k, v] : l) {
    if (!valid_name(k, false) || k.starts_with("__") || k == "le")
      throw std::invalid_argument(fmt::format("metrics: bad label name \"{}\" for {}", k, name));
  }
  if (type == kind::histogram &&
      (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
       std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
       std::any_of(bounds.begin(), bounds.end(), [](double b) { return !std::isfinite(b); })))
    throw std::invalid_argument(fmt::format("metrics: {} needs finite ascending bucket bounds", name));
  std::lock_guard lock(mutex_);
  family_entry* f = nullptr;
  for (auto& e : families_) {
    if (e->name == name) f = e.get();
  }
  if (f && (f->type != type || f->bounds != bounds))
    throw std::invalid_argument(fmt::format("metrics: {} is already registered with another type or buckets", name));
  if (!f) {
    families_.push_back(std::make_unique<family_entry>(
        family_entry{std::string(name), std::string(help), type, std::move(bounds), {}}));
    f = families_.back().get();
  }
  if (bounds_out) *bounds_out = f->bounds.data();
  for (const auto& s : f->series) {
    if (s.labels == l) return s.slot;
  }
  std::uint32_t n = slots_of(type, f->bounds.size());
  if (used_ + n > capacity_)
    throw std::length_error(fmt::format("metrics: no room for {} (capacity {} slots)", name, capacity_));
  f->series.push_back({l, used_});
  used_ += n;
  return f->series.back().slot;
}

counter registry::add_counter(std::string_view name, std::string_view help, const labels& l) {
  return counter(this, add(name, help, kind::counter, {}, l, nullptr));
}

gauge registry::add_gauge(std::string_view name, std::string_view help, const labels& l) {
  return gauge(this, add(name, help, kind::gauge, {}, l, nullptr));
}

histogram registry::add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                  const labels& l) {
  const double* b = nullptr;
  auto n = static_cast<std::uint32_t>(bounds.size());
  std::uint32_t slot = add(name, help, kind::histogram, std::move(bounds), l, &b);
  return histogram(this, slot, b, n);
}

detail::slot* detail::attach(const registry& r) {
  // A thread that writes to several registries finds the others here.
  thread_local std::vector<cached_shard> known;
  for (auto& k : known) {
    if (k.registry_id == r.id_) return (last_shard = k).slots;
  }
  std::lock_guard lock(r.mutex_);
  registry::shard* mine = nullptr;
  for (auto& s : r.shards_) {
    if (s->owner == std::this_thread::get_id()) mine = s.get();
  }
  if (!mine) {
    r.shards_.push_back(std::make_unique<registry::shard>(r.capacity_));
    mine = r.shards_.back().get();
  }
  cached_shard c{r.id_, mine->values.get()};
  known.push_back(c);
  last_shard = c;
  return c.slots;
}

snapshot registry::collect() const {
  std::lock_guard lock(mutex_);
  auto sum = [this](std::uint32_t slot) {
    std::uint64_t total = 0;
    for (const auto& s : shards_) total += s->values[slot].load(std::memory_order_relaxed);
    return total;
  };
  snapshot out;
  out.families.reserve(families_.size());
  for (const auto& f : families_) {
    family& o = out.families.emplace_back(family{f->name, f->help, f->type, f->bounds, {}});
    for (const auto& e : f->series) {
      series& s = o.series.emplace_back();
      s.labels = e.labels;
      if (f->type == kind::counter) {
        s.value = static_cast<double>(sum(e.slot));
      } else if (f->type == kind::gauge) {
        s.value = static_cast<double>(static_cast<std::int64_t>(sum(e.slot)));
      } else {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= f->bounds.size(); ++i) {
          cumulative += sum(static_cast<std::uint32_t>(e.slot + i));
          s.buckets.push_back(cumulative);
        }
        s.count = cumulative;
        auto slot = static_cast<std::uint32_t>(e.slot + f->bounds.size() + 1);
        for (const auto& sh : shards_)
          s.sum += std::bit_cast<double>(sh->values[slot].load(std::memory_order_relaxed));
        s.value = static_cast<double>(s.count);
      }
    }
  }
  return out;
}

const series* snapshot::find(std::string_view name, const labels& l) const {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& s : f.series) {
      if (s.labels == l) return &s;
    }
  }
  return nullptr;
}

std::optional<double> snapshot::value(std::string_view name, const labels& l) const {
  if (const series* s = find(name, l)) return s->value;
  return std::nullopt;
}

registry& library() {
  static registry* r = [] {
    auto* lib = new registry(8192);  // never destroyed: threads may update it during exit
    lib->enable(false);
    return lib;
  }();
  return *r;
}

namespace {

void escape(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
}

void number(std::string& out, double v) {
  if (std::isnan(v)) out += "NaN";
  else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
  else fmt::format_to(std::back_inserter(out), "{}", v);
}

// name{labels[,le="bound"]}
void series_name(std::string& out, std::string_view name, std::string_view suffix, const labels& l,
                 const double* le) {
  out += name;
  out += suffix;
  if (l.empty() && !le) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    escape(out, v, true);
    out += '"';
  }
  if (le) {
    if (!first) out += ',';
    out += "le=\"";
    number(out, *le);
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string to_prometheus(const snapshot& s) {
  std::string out;
  for (const auto& f : s.families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    escape(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += f.type == kind::counter ? " counter\n" : f.type == kind::gauge ? " gauge\n" : " histogram\n";
    for (const auto& x : f.series) {
      if (f.type != kind::histogram) {
        series_name(out, f.name, "", x.labels, nullptr);
        out += ' ';
        number(out, x.value);
        out += '\n';
        continue;
      }
      const double inf = HUGE_VAL;
      for (std::size_t i = 0; i < x.buckets.size(); ++i) {
        series_name(out, f.name, "_bucket", x.labels, i < f.bounds.size() ? &f.bounds[i] : &inf);
        fmt::format_to(std::back_inserter(out), " {}\n", x.buckets[i]);
      }
      series_name(out, f.name, "_sum", x.labels, nullptr);
      out += ' ';
      number(out, x.sum);
      out += '\n';
      series_name(out, f.name, "_count", x.labels, nullptr);
      fmt::format_to(std::back_inserter(out), " {}\n", x.count);
    }
  }
  return out;
}

}  // namespace costrix::metrics
