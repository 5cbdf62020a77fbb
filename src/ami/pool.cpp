#include <costrix/ami/pool.hpp>

#include <limits>

namespace costrix::ami {

pool::pool(executor_type ex, pool_options options) : ex_(ex), options_(options) {}

pool::~pool() {
  std::vector<subscription> ids;
  {
    std::lock_guard lock(subs_mutex_);
    for (const auto& [id, _] : subs_) ids.push_back(id);
  }
  for (auto id : ids) unsubscribe(id);
}

std::size_t pool::add(client& c, std::string name) {
  auto& s = servers_.emplace_back();
  s.c = &c;
  s.name = name.empty() ? std::to_string(servers_.size() - 1) : std::move(name);
  return servers_.size() - 1;
}

std::optional<std::size_t> pool::pick() {
  const std::size_t n = servers_.size();
  if (n == 0) return std::nullopt;
  if (options_.policy == pool_policy::round_robin) {
    const std::size_t first = next_.fetch_add(1);
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = (first + k) % n;
      if (servers_[i].c->state() == connection_state::connected) {
        // The next turn starts after the one taken (skipped servers do not shift the rotation twice).
        if (k > 0) next_.fetch_add(k);
        return i;
      }
    }
    return std::nullopt;
  }
  std::optional<std::size_t> best;
  std::size_t least = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < n; ++i) {
    if (servers_[i].c->state() != connection_state::connected) continue;
    std::size_t p = servers_[i].pending.load();
    if (p < least) {
      least = p;
      best = i;
    }
  }
  return best;
}

subscription pool::on_event(std::string name, pool_event_handler f) {
  auto shared = std::make_shared<pool_event_handler>(std::move(f));
  std::vector<subscription> ids;
  for (std::size_t i = 0; i < servers_.size(); ++i)
    ids.push_back(servers_[i].c->on_event(name, [shared, i](const message& m) { (*shared)(i, m); }));
  std::lock_guard lock(subs_mutex_);
  subscription id = ++next_sub_;
  subs_.emplace_back(id, std::move(ids));
  return id;
}

void pool::unsubscribe(subscription id) {
  std::vector<subscription> ids;
  {
    std::lock_guard lock(subs_mutex_);
    for (auto it = subs_.begin(); it != subs_.end(); ++it) {
      if (it->first != id) continue;
      ids = std::move(it->second);
      subs_.erase(it);
      break;
    }
  }
  for (std::size_t i = 0; i < ids.size() && i < servers_.size(); ++i) servers_[i].c->unsubscribe(ids[i]);
}

}  // namespace costrix::ami
